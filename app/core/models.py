"""Plumbing tables: the transactional outbox of jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, db


class OutboxJob(db.Model):
    """A job requested by a committed transaction; relayed to RQ (or run in-process) after commit.

    Written in the same transaction as the change that needs it, so a job is never lost when
    Redis is down or a process dies between commit and enqueue.
    """

    __tablename__ = "outbox_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    queue: Mapped[str] = mapped_column(String(20), default="default")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_outbox_jobs_pending", "id", sqlite_where=db.text("delivered_at IS NULL"),
              postgresql_where=db.text("delivered_at IS NULL")),
    )
