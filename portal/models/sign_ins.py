from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import Model


class SignIn(Model):
    """One sign-in. The session and remember-me cookies name it, and a cookie counts only
    while its row exists, so signing out (deleting the row) refuses every copy of them.

    Only a SHA-256 of the random key is kept: a copy of the table signs no one in."""

    __tablename__ = "sign_ins"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Indexed for pruning the expired (accounts/sign_ins.py).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<SignIn user={self.user_id} {self.key_hash[:8]}>"
