from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import Model


class IdempotentPurchase(Model):
    """A purchase made under a client-chosen key (the API's Idempotency-Key header, a buy
    form's one-time token), written in the same transaction as its order. The unique
    (user, key) makes a repeated or concurrent request with the key find this order
    instead of making a second one."""

    __tablename__ = "idempotent_purchases"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotent_purchases_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of what the request asked for: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    # The first request's answer, given again to every repeat (empty: the caller re-renders).
    answer: Mapped[str] = mapped_column(Text, default="")
    # Indexed for pruning the keys past their lifetime (booking/idempotency.py).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
