"""In-app notifications, their email preferences and the once-only markers of periodic notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, db


class Notification(db.Model):
    """An in-app message to a member (claim released, waitlist promotion, ...)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_notifications_user_id_created_at", "user_id", "created_at"),)


class NotificationPreference(db.Model):
    """A member's email choices: all email off, or some categories off (in-app notices always show)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    muted_categories: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NotificationMarker(db.Model):
    """'This notice was sent for this object': the unique key makes a periodic notice exactly-once.

    e.g. kind 'shift.reminder_hour', ref_id = the claim's id. A second or concurrent run of the job
    inserts nothing (ON CONFLICT DO NOTHING) and so notifies nobody twice.
    """

    __tablename__ = "notification_markers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    ref_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("kind", "ref_id", name="uq_notification_markers_kind_ref_id"),)
