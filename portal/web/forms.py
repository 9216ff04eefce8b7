"""Form pieces more than one blueprint uses."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..accounts import password_problem
from ..core.errors import DomainError
from ..l10n import CURRENCY_PROBLEM, canonical_zone, normalize_currency
from ..models import PaymentPolicy, Service
from ..money import SMALLEST_AMOUNT, amount_problem, from_minor, to_minor
from .localtime import timezone_groups, viewer_zone


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Put a domain refusal next to the field it is about, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def saved_service(form: FlaskForm, save: Callable[[], Service]):
    """A practitioner's service form saved (a service, package, class pass or membership
    plan): the saved notice and the services list, or None with the domain's refusal put
    next to its field, for the view to show the form again."""
    try:
        saved = save()
    except DomainError as error:
        show_domain_error(form, error)
        return None
    flash(gettext("%(saved_name)s is saved.", saved_name=saved.name), "success")
    return redirect(url_for("services.list_services"))


def iso_currency(_form: FlaskForm, field: StringField) -> None:
    """ISO 4217 codes only (the catalogue checks again, with the same rule)."""
    if normalize_currency(field.data) is None:
        raise ValidationError(str(CURRENCY_PROBLEM))


class ServiceFields(FlaskForm):
    """What every service has, whatever its type: the services form adds the type and the
    package/bundle lines, the course form its recurrence."""

    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        lazy_gettext("Description"), validators=[Optional(), Length(max=5000)]
    )
    price = DecimalField(
        lazy_gettext("Price"),
        places=None,
        validators=[InputRequired(), NumberRange(min=0, max=1_000_000)],
    )
    currency = StringField(
        lazy_gettext("Currency"),
        default="USD",
        filters=[lambda code: normalize_currency(code) or code],
        validators=[DataRequired(), iso_currency],
    )
    duration_minutes = IntegerField(
        lazy_gettext("Duration (minutes)"),
        default=60,
        validators=[InputRequired(), NumberRange(5, 24 * 60)],
    )
    max_participants = IntegerField(
        lazy_gettext("Max participants"),
        default=1,
        validators=[InputRequired(), NumberRange(1, 1000)],
    )
    cancellation_cutoff_hours = IntegerField(
        lazy_gettext("Cancellation cut-off (hours before start)"),
        default=24,
        validators=[InputRequired(), NumberRange(0, 24 * 30)],
    )
    is_active = BooleanField(lazy_gettext("Offered to clients"), default=True)
    payment_policy = SelectField(
        lazy_gettext("When clients pay"),
        choices=[SelectChoice(p.value, p.label.capitalize()) for p in PaymentPolicy],
        default=PaymentPolicy.IN_FULL.value,
    )
    deposit = DecimalField(
        lazy_gettext("Deposit amount"),
        places=None,
        validators=[Optional(), NumberRange(min=SMALLEST_AMOUNT, max=1_000_000)],
        description=lazy_gettext("With a deposit: a fixed amount, or else a percentage."),
    )
    deposit_percent = IntegerField(
        lazy_gettext("Deposit percentage"),
        validators=[Optional(), NumberRange(1, 99)],
    )
    late_cancel_fee = DecimalField(
        lazy_gettext("Late-cancel fee"),
        places=None,
        validators=[Optional(), NumberRange(min=SMALLEST_AMOUNT, max=1_000_000)],
        description=lazy_gettext(
            "Charged when a client cancels after the cut-off: an amount, or else a percentage."
        ),
    )
    late_cancel_fee_percent = IntegerField(
        lazy_gettext("Late-cancel fee percentage"),
        validators=[Optional(), NumberRange(1, 100)],
    )
    no_show_fee = DecimalField(
        lazy_gettext("No-show fee"),
        places=None,
        validators=[Optional(), NumberRange(min=SMALLEST_AMOUNT, max=1_000_000)],
        description=lazy_gettext("Charged when a client is marked absent."),
    )
    # Packages and bundles have no seats of their own: their form drops this field (= None),
    # so saving one leaves the stored value alone.
    show_seats_left = BooleanField(
        lazy_gettext("Show clients how many seats are left"),
        default=True,
        description=lazy_gettext(
            "Workshops and courses. Off: clients see only “Available” or “Full”; "
            "you and staff still see the counts."
        ),
    )

    def show_amounts(self, service) -> None:
        """The stored amounts (minor units) as the form's decimal fields show them."""
        self.price.data = from_minor(service.price_cents, service.currency)
        for name, minor in (
            ("deposit", service.deposit_cents),
            ("late_cancel_fee", service.late_cancel_fee_cents),
            ("no_show_fee", service.no_show_fee_cents),
        ):
            if minor is not None:
                self[name].data = from_minor(minor, service.currency)

    def start_from_policy_of(self, service) -> None:
        """A new service's cancellation policy, as the practitioner's latest one has it."""
        self.cancellation_cutoff_hours.data = service.cancellation_cutoff_hours
        self.late_cancel_fee_percent.data = service.late_cancel_fee_percent
        for name, minor in (
            ("late_cancel_fee", service.late_cancel_fee_cents),
            ("no_show_fee", service.no_show_fee_cents),
        ):
            self[name].data = None if minor is None else from_minor(minor, service.currency)

    def validate_price(self, field: DecimalField) -> None:
        """A price finer than the currency's minor unit is refused: rounded, 0.004 dollars
        would be stored as free and 12.5 yen as 12 or 13."""
        self._check_decimals(field)

    def validate_deposit(self, field: DecimalField) -> None:
        self._check_decimals(field)

    def validate_late_cancel_fee(self, field: DecimalField) -> None:
        self._check_decimals(field)

    def validate_no_show_fee(self, field: DecimalField) -> None:
        self._check_decimals(field)

    def _check_decimals(self, field: DecimalField) -> None:
        currency = normalize_currency(self.currency.data)
        if field.data is not None and currency is not None:
            problem = amount_problem(field.data, currency)
            if problem:
                raise ValidationError(problem)

    def _minor(self, field: DecimalField) -> int | None:
        return None if field.data is None else to_minor(field.data, self.currency.data)

    def service_values(self) -> dict:
        """The fields as booking.save_service takes them."""
        values = {
            "name": self.name.data.strip(),
            "description": self.description.data or "",
            "price_cents": self._minor(self.price),
            "currency": self.currency.data,
            "is_active": self.is_active.data,
            "payment_policy": self.payment_policy.data,
            "deposit_cents": self._minor(self.deposit),
            "deposit_percent": self.deposit_percent.data,
            "late_cancel_fee_cents": self._minor(self.late_cancel_fee),
            "late_cancel_fee_percent": self.late_cancel_fee_percent.data,
            "no_show_fee_cents": self._minor(self.no_show_fee),
        }
        # A form that drops one of these (= None) leaves the stored value alone.
        for name in (
            "duration_minutes",
            "max_participants",
            "cancellation_cutoff_hours",
            "show_seats_left",
        ):
            if name in self:
                values[name] = self[name].data
        return values


def _person(form: FlaskForm) -> tuple[str, str]:
    """The name and address the password must not be made of: the form's (sign-up), else
    the signed-in account's (password change)."""
    name, email = (getattr(form, key, None) for key in ("name", "email"))
    if name is not None or email is not None:
        return (name.data if name else "") or "", (email.data if email else "") or ""
    if current_user.is_authenticated:
        return current_user.name, current_user.email
    return "", ""


def acceptable_password(form: FlaskForm, field: PasswordField) -> None:
    """The accounts' password policy as a field validator (the operations check it again,
    knowing the account)."""
    name, email = _person(form)
    problem = password_problem(field.data or "", name=name, email=email)
    if problem:
        raise ValidationError(problem)


class NewPasswordFields(FlaskForm):
    """A password chosen twice, under the one policy: sign-up, reset, invitation."""

    password = PasswordField(
        lazy_gettext("Password"), validators=[DataRequired(), acceptable_password]
    )
    confirm_password = PasswordField(
        lazy_gettext("Repeat password"),
        validators=[
            DataRequired(),
            EqualTo("password", message=lazy_gettext("The passwords differ.")),
        ],
    )


def timezone_choices() -> dict[str, list[SelectChoice]]:
    return {
        region: [SelectChoice(zone, label) for zone, label in zones]
        for region, zones in timezone_groups()
    }


def _canonical_zone_or_as_given(name: str | None) -> str | None:
    """An old alias (GB-Eire) stands for its zone (Europe/London); anything else stays as
    given, for the choice check to refuse."""
    return canonical_zone(name) or name


def timezone_field(label: str = lazy_gettext("Timezone")) -> SelectField:
    """A select of the canonical IANA zones grouped by region, the viewer's own (or, for a
    visitor, their browser's) first and preselected. portal/static/js/timezone-select.js
    picks the browser's zone on forms that ask for it; without JavaScript the person picks."""
    return SelectField(
        label,
        choices=timezone_choices,
        default=lambda: viewer_zone().key,
        coerce=_canonical_zone_or_as_given,
        validate_choice=True,
    )
