"""How a client pays for an order, behind one small interface.

A provider turns a pending order into what the client must do next: offline
instructions, or an address to send them to. Money arriving is always recorded
through payments.confirm_payment, whoever reports it (a practitioner marking an
offline payment, or a provider's webhook).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from flask_babel import gettext

from ..models import Order


@dataclass(frozen=True)
class PaymentStart:
    """What the client sees after placing an order: instructions and/or a redirect."""

    instructions: str
    redirect_url: str | None = None


class PaymentProvider(Protocol):
    name: str
    label: str

    def start(self, order: Order) -> PaymentStart:
        """Begin (or show again) the payment of a pending order; must be idempotent."""
        ...

    def start_balance(self, order: Order) -> PaymentStart:
        """Begin the payment of the balance a paid order still has due (a deposit's
        rest); must be idempotent."""
        ...


MANUAL = "manual"


class ManualProvider:
    """Offline payment: bank transfer or in person, marked paid by the practitioner or staff."""

    name = MANUAL
    label = "Offline payment"

    def start(self, order: Order) -> PaymentStart:
        practitioner = order.service.primary_practitioner.name
        if order.confirmed_unpaid:
            # Pay later: nothing waits for this payment.
            return PaymentStart(
                instructions=gettext(
                    "Your booking is confirmed. Pay %(amount)s to %(practitioner)s by bank "
                    "transfer or at the session, quoting the reference %(reference)s.",
                    amount=order.money_display(order.amount_due),
                    practitioner=practitioner,
                    reference=payment_reference(order),
                )
            )
        return PaymentStart(
            instructions=(
                f"Pay {order.total_display} to {practitioner} by bank transfer or in person, "
                f"quoting the reference {payment_reference(order)}. Your booking is confirmed "
                "as soon as the payment is marked as received."
            )
        )

    def start_balance(self, order: Order) -> PaymentStart:
        return PaymentStart(
            instructions=gettext(
                "Pay the balance of %(amount)s to %(practitioner)s by bank transfer or at the "
                "session, quoting the reference %(reference)s.",
                amount=order.money_display(order.amount_due),
                practitioner=order.service.primary_practitioner.name,
                reference=payment_reference(order),
            )
        )


_PROVIDERS: dict[str, PaymentProvider] = {}


def register_provider(provider: PaymentProvider) -> None:
    _PROVIDERS[provider.name] = provider


def get_provider(name: str) -> PaymentProvider:
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise LookupError(f"no payment provider named {name!r}") from None


def default_provider_name() -> str:
    return current_app.config.get("PORTAL_PAYMENT_PROVIDER", ManualProvider.name)


def payment_reference(order: Order) -> str:
    return f"EST-{order.id:06d}"


register_provider(ManualProvider())
