"""Campaigns and their shifts."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, db
from app.members.models import Organisation, Tag


class CampaignKind(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND_CALLBACK = "outbound_callback"
    OUTBOUND_MARKETING = "outbound_marketing"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# The lifecycle as a table: status -> statuses it may move to.
CAMPAIGN_TRANSITIONS: dict[str, frozenset[str]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.PUBLISHED, CampaignStatus.CANCELLED}),
    CampaignStatus.PUBLISHED: frozenset({CampaignStatus.RUNNING, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED}),
    CampaignStatus.RUNNING: frozenset({CampaignStatus.COMPLETED, CampaignStatus.CANCELLED}),
    CampaignStatus.COMPLETED: frozenset(),
    CampaignStatus.CANCELLED: frozenset(),
}

# Statuses in which shifts are offered on the board.
OPEN_CAMPAIGN_STATUSES = (CampaignStatus.PUBLISHED, CampaignStatus.RUNNING)


class ShiftStatus(enum.StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


class Campaign(db.Model):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    industry: Mapped[str] = mapped_column(String(40))  # an industry.* tag code
    description: Mapped[str] = mapped_column(Text, default="")
    script: Mapped[str] = mapped_column(Text, default="")
    min_tier: Mapped[int] = mapped_column(SmallInteger, default=1)
    rate_fen_per_hour: Mapped[int] = mapped_column(Integer)
    bonus_fen_per_contact: Mapped[int] = mapped_column(Integer, default=0)
    # Paid per successful outbound contact (converted / reactivated), on top of the contact bonus.
    bonus_fen_per_success: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=CampaignStatus.DRAFT)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    required_tags: Mapped[list[Tag]] = relationship(secondary="campaign_tags", order_by="Tag.code")

    __table_args__ = (
        CheckConstraint("kind IN ('inbound','outbound_callback','outbound_marketing')", name="kind_known"),
        CheckConstraint(
            "status IN ('draft','published','running','completed','cancelled')", name="status_known"
        ),
        CheckConstraint("rate_fen_per_hour >= 0 AND bonus_fen_per_contact >= 0 AND budget_fen >= 0",
                        name="money_positive"),
        CheckConstraint("bonus_fen_per_success >= 0", name="success_bonus_positive"),
        CheckConstraint("min_tier BETWEEN 0 AND 3", name="tier_known"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        Index("ix_campaigns_organisation_id_created_at", "organisation_id", "created_at"),
        Index("ix_campaigns_status", "status"),
    )


class CampaignTag(db.Model):
    """A tag every agent on the campaign must hold."""

    __tablename__ = "campaign_tags"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True)


class Shift(db.Model):
    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seats: Mapped[int] = mapped_column(Integer)
    # Active claims on this shift, kept by the claim transaction (check and act in one UPDATE).
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default=ShiftStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()

    __table_args__ = (
        CheckConstraint("seats BETWEEN 1 AND 5000", name="seats_range"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= seats", name="seats_taken_within_seats"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("status IN ('open','cancelled')", name="status_known"),
        UniqueConstraint("campaign_id", "starts_at", "ends_at", name="uq_shifts_campaign_window"),
        # The board walks open shifts by start time.
        Index("ix_shifts_open_starts_at", "starts_at", "id",
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    @property
    def seats_left(self) -> int:
        return self.seats - self.seats_taken
