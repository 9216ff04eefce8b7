from __future__ import annotations

from datetime import date, time

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model


class ScheduleSettings(Model):
    """A practitioner's booking policy; absent rows mean the defaults below."""

    __tablename__ = "schedule_settings"
    __table_args__ = (
        CheckConstraint("buffer_minutes >= 0", name="buffer_not_negative"),
        CheckConstraint("min_notice_minutes >= 0", name="notice_not_negative"),
        CheckConstraint("horizon_days >= 1", name="horizon_positive"),
        CheckConstraint("slot_step_minutes >= 5", name="step_at_least_five"),
    )

    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    min_notice_minutes: Mapped[int] = mapped_column(default=12 * 60)
    horizon_days: Mapped[int] = mapped_column(default=60)
    slot_step_minutes: Mapped[int] = mapped_column(default=30)


class WeeklyHours(Model):
    """A working range on a weekday (0 = Monday), in the practitioner's own timezone."""

    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    weekday: Mapped[int] = mapped_column()
    start_time: Mapped[time] = mapped_column()
    end_time: Mapped[time] = mapped_column()


class DateOverride(Model):
    """Replaces the weekly hours on one date: no ranges that day means a day off."""

    __tablename__ = "date_overrides"
    __table_args__ = (
        CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) OR end_time > start_time",
            name="range_or_day_off",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    day: Mapped[date] = mapped_column(index=True)
    start_time: Mapped[time | None] = mapped_column()
    end_time: Mapped[time | None] = mapped_column()
