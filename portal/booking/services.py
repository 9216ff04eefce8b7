"""A practitioner's services: the types, what packages and bundles contain, what a class pass
grants, and the tags a pass can name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import select, update

from .. import audit
from ..core.errors import InvalidInput
from ..core.transactions import unit_of_work
from ..database import MAX_ID
from ..extensions import db
from ..l10n import CURRENCY_PROBLEM, normalize_currency
from ..models import (
    CREDIT_SERVICE_TYPES,
    TAG_MAX,
    AuditAction,
    ClassPassTerms,
    PaymentPolicy,
    Service,
    ServiceComponent,
    ServiceSession,
    ServiceTag,
    ServiceType,
    User,
)

# A 1-on-1 service's own booking policy (slots.BookingPolicy), each None for the
# practitioner's setting.
POLICY_FIELDS = (
    "buffer_minutes",
    "min_notice_minutes",
    "horizon_days",
    "bookable_weekdays",
    "bookable_from",
    "bookable_until",
)
SERVICE_FIELDS = (
    "name",
    "description",
    "service_type",
    "price_cents",
    "currency",
    "duration_minutes",
    "max_participants",
    "cancellation_cutoff_hours",
    "validity_days",
    "is_active",
    "show_seats_left",
    "payment_policy",
    "deposit_cents",
    "deposit_percent",
    *POLICY_FIELDS,
    "late_cancel_fee_cents",
    "late_cancel_fee_percent",
    "no_show_fee_cents",
)

# Services whose credits expire (validity_days).
EXPIRING_TYPES = frozenset({*CREDIT_SERVICE_TYPES, ServiceType.CLASS_PASS})
MAX_PASS_CREDITS = 1000
# Services whose credits are spent on seats under pass terms: a pass's once, a membership's
# every paid period.
PASS_TERMS_TYPES = frozenset({ServiceType.CLASS_PASS, ServiceType.MEMBERSHIP})


@dataclass
class PassTerms:
    """What a class pass grants, as the practitioner gives it: credits, where they may be
    spent (these services, or any carrying the tag), and at most how many a day or week."""

    credits: int
    service_ids: list[int] = field(default_factory=list)
    tag: str | None = None
    per_day: int | None = None
    per_week: int | None = None


def normalize_tag(text: str) -> str:
    """One spelling per tag: trimmed, single-spaced, lower case."""
    return " ".join(text.split()).lower()


def _check_tags(tags: Sequence[str]) -> list[str]:
    cleaned = sorted({normalize_tag(t) for t in tags} - {""})
    if any(len(tag) > TAG_MAX for tag in cleaned):
        raise InvalidInput(
            gettext("A tag has at most %(num)d characters.", num=TAG_MAX), field="tags"
        )
    return cleaned


def _check_pass_terms(practitioner: User, terms: PassTerms) -> tuple[list[Service], str | None]:
    if not 1 <= terms.credits <= MAX_PASS_CREDITS:
        raise InvalidInput(
            gettext("A pass holds from 1 to %(num)d credits.", num=MAX_PASS_CREDITS),
            field="credits",
        )
    for limit, name in ((terms.per_day, "per_day"), (terms.per_week, "per_week")):
        if limit is not None and not 1 <= limit <= MAX_PASS_CREDITS:
            raise InvalidInput(gettext("A limit is at least 1."), field=name)
    tag = _check_tags([terms.tag])[0] if terms.tag and normalize_tag(terms.tag) else None
    wanted = set(terms.service_ids)
    if any(not 0 < service_id <= MAX_ID for service_id in wanted):
        raise InvalidInput(gettext("A pass names your own workshops."), field="services")
    services = list(
        db.session.scalars(
            select(Service).where(
                Service.id.in_(wanted),
                Service.primary_practitioner_id == practitioner.id,
                Service.service_type == ServiceType.WORKSHOP,
            )
        )
    )
    if {s.id for s in services} != wanted:
        raise InvalidInput(gettext("A pass names your own workshops."), field="services")
    if not services and tag is None:
        raise InvalidInput(
            gettext("Name the workshops the pass is for, or a tag they carry."), field="services"
        )
    return services, tag


def _set_pass_terms(service: Service, terms: PassTerms, services: list[Service], tag) -> None:
    row = service.pass_terms
    if row is None:
        row = ClassPassTerms(credits=terms.credits)
        service.pass_terms = row
    row.credits, row.eligible_tag = terms.credits, tag
    row.per_day, row.per_week = terms.per_day, terms.per_week
    row.eligible_services = services


def _set_tags(service: Service, tags: list[str]) -> None:
    existing = {row.tag: row for row in service.tags}
    for tag, row in existing.items():
        if tag not in tags:
            service.tags.remove(row)
    service.tags.extend(ServiceTag(tag=tag) for tag in tags if tag not in existing)


def _check_contents(
    practitioner: User, service: Service | None, kind: ServiceType, lines: list[tuple[int, int]]
) -> list[tuple[Service, int]]:
    merged: dict[int, int] = {}
    for service_id, quantity in lines:
        if quantity < 1:
            raise InvalidInput(gettext("Each quantity must be at least 1."), field="components")
        merged[service_id] = merged.get(service_id, 0) + quantity
    if kind not in CREDIT_SERVICE_TYPES:
        if merged:
            raise InvalidInput(
                gettext("Only packages and bundles have contents."), field="components"
            )
        return []
    if not merged:
        raise InvalidInput(
            gettext("A %(kind_label)s needs at least one service.", kind_label=kind.label),
            field="components",
        )
    if kind == ServiceType.BUNDLE and len(merged) != 1:
        raise InvalidInput(gettext("A bundle contains exactly one service."), field="components")
    if any(not 0 < service_id <= MAX_ID for service_id in merged):
        raise InvalidInput(
            gettext("Contents must be your own 1-on-1 services."), field="components"
        )
    included = {
        s.id: s
        for s in db.session.scalars(
            select(Service).where(
                Service.id.in_(merged),
                Service.primary_practitioner_id == practitioner.id,
                Service.service_type == ServiceType.INDIVIDUAL,
            )
        )
    }
    if set(included) != set(merged) or (service is not None and service.id in merged):
        raise InvalidInput(
            gettext("Contents must be your own 1-on-1 services."), field="components"
        )
    return [(included[service_id], quantity) for service_id, quantity in merged.items()]


def _check_fields(practitioner: User, service: Service | None, kind: ServiceType, fields) -> None:
    """The rules on a service's own fields, before anything is written."""
    if not practitioner.is_practitioner:
        raise InvalidInput(gettext("Only practitioners offer services."))
    if service is not None and service.service_type != kind:
        raise InvalidInput(
            gettext("The type of an existing service cannot change."), field="service_type"
        )
    if kind == ServiceType.INDIVIDUAL and fields.get("max_participants", 1) != 1:
        raise InvalidInput(
            gettext("A 1-on-1 service has exactly one seat."), field="max_participants"
        )
    if fields.get("validity_days") and kind not in EXPIRING_TYPES:
        raise InvalidInput(
            gettext("Only packages, bundles and class passes expire."), field="validity_days"
        )
    currency = normalize_currency(fields.get("currency", service.currency if service else "USD"))
    if currency is None:
        raise InvalidInput(str(CURRENCY_PROBLEM), field="currency")
    _check_payment_policy(service, fields)
    _check_cancellation_fees(fields)
    _check_booking_policy(kind, fields)


def _check_booking_policy(kind: ServiceType, fields) -> None:
    """Only a 1-on-1 service is booked by slot, so only it keeps a policy of its own; its
    hours run forwards and its weekdays name at least one day."""
    if kind != ServiceType.INDIVIDUAL:
        for key in POLICY_FIELDS:
            fields[key] = None
        return
    start, end = fields.get("bookable_from"), fields.get("bookable_until")
    if start is not None and end is not None and end <= start:
        raise InvalidInput(
            gettext("The last time must come after the first."), field="bookable_until"
        )
    if fields.get("bookable_weekdays") == 0:
        raise InvalidInput(
            gettext("Pick at least one day, or none for every working day."),
            field="bookable_weekdays",
        )


def _check_cancellation_fees(fields) -> None:
    """A late-cancel fee is an amount or a percentage of the price, not both; fees are in
    the currency's minor units like the price (portal/money.py)."""
    if (
        fields.get("late_cancel_fee_cents") is not None
        and fields.get("late_cancel_fee_percent") is not None
    ):
        raise InvalidInput(
            gettext("Give the late-cancel fee as an amount or as a percentage, not both."),
            field="late_cancel_fee",
        )
    percent = fields.get("late_cancel_fee_percent")
    if percent is not None and not 1 <= percent <= 100:
        raise InvalidInput(
            gettext("A fee percentage is between 1 and 100."), field="late_cancel_fee_percent"
        )
    for key, shown_on in (
        ("late_cancel_fee_cents", "late_cancel_fee"),
        ("no_show_fee_cents", "no_show_fee"),
    ):
        amount = fields.get(key)
        if amount is None:
            continue
        if amount <= 0:
            raise InvalidInput(gettext("A fee is more than nothing."), field=shown_on)


def _check_payment_policy(service: Service | None, fields) -> None:
    """A deposit is a fixed amount or a percentage, and less than the price; other
    policies keep none (the form's stray deposit fields are dropped)."""
    policy = PaymentPolicy(
        fields.get("payment_policy", service.payment_policy if service else PaymentPolicy.IN_FULL)
    )
    fields["payment_policy"] = policy
    if policy != PaymentPolicy.DEPOSIT:
        fields["deposit_cents"] = fields["deposit_percent"] = None
        return
    fixed = fields.get("deposit_cents", service.deposit_cents if service else None)
    percent = fields.get("deposit_percent", service.deposit_percent if service else None)
    if (fixed is None) == (percent is None):
        raise InvalidInput(
            gettext("Give the deposit as an amount or as a percentage (one of them)."),
            field="deposit",
        )
    price = fields.get("price_cents", service.price_cents if service else 0)
    if fixed is not None and not 0 < fixed < price:
        raise InvalidInput(
            gettext("A deposit is more than nothing and less than the price."), field="deposit"
        )
    if percent is not None and not 1 <= percent <= 99:
        raise InvalidInput(
            gettext("A deposit percentage is between 1 and 99."), field="deposit_percent"
        )
    fields["deposit_cents"], fields["deposit_percent"] = fixed, percent


def _set_contents(service: Service, contents: list[tuple[Service, int]]) -> None:
    """A package's or bundle's lines. Existing rows are updated in place: the
    (parent, included) pair is unique, so a delete-and-insert would collide."""
    existing = {c.included_service_id: c for c in service.components}
    wanted = {included.id: quantity for included, quantity in contents}
    for included_id, component in existing.items():
        if included_id not in wanted:
            service.components.remove(component)
    db.session.flush()
    for included_id, quantity in wanted.items():
        if included_id in existing:
            existing[included_id].quantity = quantity
        else:
            service.components.append(
                ServiceComponent(included_service_id=included_id, quantity=quantity)
            )


def _bump_untitled_sessions(service: Service) -> None:
    """Untitled sessions are shown under the service's name: calendars must see a rename."""
    db.session.execute(
        update(ServiceSession)
        .where(ServiceSession.service_id == service.id, ServiceSession.title == "")
        .values(revision=ServiceSession.revision + 1)
        .execution_options(synchronize_session=False)
    )


def latest_service(practitioner: User) -> Service | None:
    """The practitioner's most recent service: its cancellation policy is the one a new
    service starts from (their default), so a policy is set once, not per service."""
    return db.session.scalars(
        select(Service)
        .where(Service.primary_practitioner_id == practitioner.id)
        .order_by(Service.created_at.desc(), Service.id.desc())
        .limit(1)
    ).first()


def _audited_values(service: Service) -> dict:
    values = {key: getattr(service, key) for key in SERVICE_FIELDS}
    values["tags"] = service.tag_names
    if terms := service.pass_terms:
        values["pass_terms"] = {
            "credits": terms.credits,
            "services": sorted(s.id for s in terms.eligible_services),
            "tag": terms.eligible_tag,
            "per_day": terms.per_day,
            "per_week": terms.per_week,
        }
    return values


@unit_of_work
def save_service(
    practitioner: User,
    service: Service | None = None,
    *,
    components: Sequence[tuple[int, int]] = (),
    pass_terms: PassTerms | None = None,
    tags: Sequence[str] | None = None,
    **fields,
) -> Service:
    """Create (service=None) or edit one of the practitioner's services; a class pass comes
    with its terms. `tags`, when given, replace the service's tags."""
    kind = ServiceType(fields["service_type"])
    _check_fields(practitioner, service, kind, fields)
    contents = _check_contents(practitioner, service, kind, list(components))
    if (kind in PASS_TERMS_TYPES) != (pass_terms is not None):
        raise InvalidInput(gettext("Only a class pass grants credits."), field="credits")
    eligible = _check_pass_terms(practitioner, pass_terms) if pass_terms else None
    clean_tags = None if tags is None else _check_tags(tags)
    renamed = service is not None and fields.get("name", service.name) != service.name
    before = None if service is None else _audited_values(service)
    if service is None:
        service = Service(primary_practitioner_id=practitioner.id)
        db.session.add(service)
    for key in SERVICE_FIELDS:
        if key in fields:
            setattr(service, key, fields[key])
    if "currency" in fields:
        currency = normalize_currency(fields["currency"])
        assert currency is not None  # _check_fields refused any other
        service.currency = currency
    if kind in CREDIT_SERVICE_TYPES:
        _set_contents(service, contents)
    if pass_terms is not None and eligible is not None:
        _set_pass_terms(service, pass_terms, *eligible)
    if clean_tags is not None:
        _set_tags(service, clean_tags)
    if renamed:
        _bump_untitled_sessions(service)
    db.session.flush()
    after = _audited_values(service)
    if after != before:
        audit.record(
            AuditAction.SERVICE_CREATED if before is None else AuditAction.SERVICE_UPDATED,
            "service",
            service.id,
            practitioner_id=practitioner.id,
            before=before,
            after=after,
        )
    return service
