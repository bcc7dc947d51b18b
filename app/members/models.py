"""Members: organisations, users (agents, client users, admins), skill tags and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, db


class Role(enum.StrEnum):
    AGENT = "agent"
    CLIENT = "client"
    ADMIN = "admin"


class Status(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Tier(enum.IntEnum):
    TRAINEE = 0
    CERTIFIED = 1
    SENIOR = 2
    GOLD = 3


class TagKind(enum.StrEnum):
    INDUSTRY = "industry"
    SKILL = "skill"
    LANGUAGE = "language"


class TagSource(enum.StrEnum):
    ACADEMY = "academy"
    ADMIN = "admin"


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    industry: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    tier: Mapped[int] = mapped_column(SmallInteger, default=Tier.TRAINEE)
    city: Mapped[str | None] = mapped_column(String(40))
    languages: Mapped[str | None] = mapped_column(String(120))  # comma-separated lang.* codes, as declared
    locale: Mapped[str | None] = mapped_column(String(5))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on logout and suspension: every session that carries an older value is dead.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        CheckConstraint("role IN ('agent','client','admin')", name="role_known"),
        CheckConstraint("status IN ('pending','active','suspended')", name="status_known"),
        CheckConstraint("tier BETWEEN 0 AND 3", name="tier_known"),
        CheckConstraint("role <> 'client' OR organisation_id IS NOT NULL", name="client_has_org"),
        Index("ix_users_role_status", "role", "status"),
        Index("ix_users_city", "city"),
        Index("ix_users_organisation_id", "organisation_id"),
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login: suspended members cannot log in
        return self.status != Status.SUSPENDED

    @property
    def is_agent(self) -> bool:
        return self.role == Role.AGENT

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def language_codes(self) -> list[str]:
        return [c for c in (self.languages or "").split(",") if c]


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class AgentTag(db.Model):
    """A tag an agent holds (or held: revoked rows stay for the record)."""

    __tablename__ = "agent_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"))
    source: Mapped[str] = mapped_column(String(10))
    level: Mapped[int] = mapped_column(SmallInteger, default=1)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(500))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))

    tag: Mapped[Tag] = relationship()

    __table_args__ = (
        CheckConstraint("source IN ('academy','admin')", name="source_known"),
        # One live grant of a tag per agent; revoked grants stay as history.
        Index("uq_agent_tags_live", "agent_id", "tag_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
        Index("ix_agent_tags_tag_id", "tag_id"),
    )


class AuditLog(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_audit_log_created_at", "created_at"),)


class Invitation(db.Model):
    """A client user's invitation of a colleague; the token is stored hashed."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
