from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...models import SLUG_MAX
from ...profiles import ProfileDetails
from ...web.forms import timezone_field


class PublicPageForm(FlaskForm):
    slug = StringField(
        lazy_gettext("Page address"),
        description=lazy_gettext("Your page is at /p/<address>. Old addresses keep leading to it."),
        validators=[DataRequired(), Length(min=2, max=SLUG_MAX)],
    )
    title = StringField(
        lazy_gettext("Title"),
        description=lazy_gettext("What you do, in a few words: e.g. Massage therapist."),
        validators=[Optional(), Length(max=120)],
    )
    bio = TextAreaField(
        lazy_gettext("Short bio"),
        description=lazy_gettext("Markdown: *italic*, **bold**, [a link](https://…), lists."),
        validators=[Optional(), Length(max=2000)],
    )
    location = StringField(
        lazy_gettext("Location"),
        description=lazy_gettext("Where clients meet you, e.g. Lisbon, Príncipe Real."),
        validators=[Optional(), Length(max=120)],
    )
    online = BooleanField(lazy_gettext("I also work online"))
    languages = StringField(
        lazy_gettext("Languages"),
        description=lazy_gettext("Separated by commas, e.g. English, Português."),
        validators=[Optional(), Length(max=200)],
    )
    links = TextAreaField(
        lazy_gettext("Links"),
        description=lazy_gettext("Your website or profiles: one https:// address a line."),
        validators=[Optional(), Length(max=2000)],
    )
    accent_color = StringField(
        lazy_gettext("Accent colour"),
        description=lazy_gettext(
            "For buttons and links on your pages and in emails, as #rrggbb. It must be dark "
            "enough to read against white (contrast 4.5:1)."
        ),
        validators=[Optional(), Length(max=7)],
    )
    embed_origins = TextAreaField(
        lazy_gettext("Sites that may show your booking page"),
        description=lazy_gettext(
            "To embed your page on your own website, list its address, one a line, "
            "e.g. https://www.example.com."
        ),
        validators=[Optional(), Length(max=2000)],
    )

    def details(self) -> ProfileDetails:
        return ProfileDetails(
            title=self.title.data or "",
            location=self.location.data or "",
            online=bool(self.online.data),
            languages=self.languages.data or "",
            links=self.links.data or "",
            accent_color=self.accent_color.data or "",
            embed_origins=self.embed_origins.data or "",
        )


class PhotoForm(FlaskForm):
    # Checked for what it really is (profiles.set_photo), not for its name or declared type.
    photo = FileField(
        lazy_gettext("Photo"),
        description=lazy_gettext("A JPEG, PNG or WebP; it is cropped square."),
    )
    remove = BooleanField(lazy_gettext("Remove my photo"))

    def validate_photo(self, field):
        if not self.remove.data and not field.data:
            raise ValidationError(lazy_gettext("Choose an image file to upload."))


class LogoForm(FlaskForm):
    # Checked for what it really is (profiles.set_logo), like the photo.
    logo = FileField(
        lazy_gettext("Logo"),
        description=lazy_gettext(
            "A JPEG, PNG, WebP or GIF; its shape and transparency are kept. It heads your "
            "public pages and your emails."
        ),
    )
    # Its own name: the photo's form beside it on the page has a "remove" (ids are unique).
    remove_logo = BooleanField(lazy_gettext("Remove my logo"))

    def validate_logo(self, field):
        if not self.remove_logo.data and not field.data:
            raise ValidationError(lazy_gettext("Choose an image file to upload."))


class TimezoneForm(FlaskForm):
    timezone = timezone_field(lazy_gettext("Show times in"))
    next = HiddenField()
