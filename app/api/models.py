"""API tokens of client organisations and the stored answers of idempotent requests."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, db
from app.members.models import User


class TokenScope(enum.StrEnum):
    READ = "read"  # GET only
    WRITE = "write"  # GET and POST


class ApiToken(db.Model):
    """A bearer token of an organisation. Only the SHA-256 of the secret is stored; `prefix` is shown."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # the member the API acts as
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))  # "sl_" + the first characters of the secret
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    __table_args__ = (
        CheckConstraint("scope IN ('read','write')", name="scope_known"),
        Index("ix_api_tokens_organisation_id", "organisation_id"),
    )


class IdempotencyKey(db.Model):
    """The first successful answer to a POST sent with an Idempotency-Key, kept per organisation and key.

    The row is inserted before the work, in the same transaction: a concurrent retry with the same key
    waits on the unique constraint (PostgreSQL) or on BEGIN IMMEDIATE (SQLite) and then replays it.
    """

    __tablename__ = "api_idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))  # method, path and canonical body
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict] = mapped_column(JSON)
    location: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("organisation_id", "key", name="uq_api_idempotency_keys_organisation_id"),
        Index("ix_api_idempotency_keys_created_at", "created_at"),
    )
