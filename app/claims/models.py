"""Claims (an agent holding a seat) and waitlist entries."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.campaigns.models import Shift
from app.core.db import UTCDateTime, db
from app.members.models import User


class ClaimStatus(enum.StrEnum):
    CLAIMED = "claimed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    SETTLED = "settled"
    RELEASED = "released"  # by the agent before the cut-off
    LATE_CANCELLED = "late_cancelled"  # by the agent after the cut-off: counts against reliability
    CANCELLED = "cancelled"  # by the client (shift removed or campaign cancelled)
    NO_SHOW = "no_show"


# Statuses that hold a seat.
ACTIVE_CLAIM_STATUSES = frozenset(
    {ClaimStatus.CLAIMED, ClaimStatus.CHECKED_IN, ClaimStatus.COMPLETED, ClaimStatus.SETTLED}
)

CLAIM_TRANSITIONS: dict[str, frozenset[str]] = {
    ClaimStatus.CLAIMED: frozenset(
        {ClaimStatus.CHECKED_IN, ClaimStatus.RELEASED, ClaimStatus.LATE_CANCELLED, ClaimStatus.CANCELLED,
         ClaimStatus.NO_SHOW}
    ),
    ClaimStatus.CHECKED_IN: frozenset({ClaimStatus.COMPLETED, ClaimStatus.CANCELLED}),
    ClaimStatus.COMPLETED: frozenset({ClaimStatus.SETTLED}),
    ClaimStatus.SETTLED: frozenset(),
    ClaimStatus.RELEASED: frozenset(),
    ClaimStatus.LATE_CANCELLED: frozenset(),
    ClaimStatus.CANCELLED: frozenset(),
    ClaimStatus.NO_SHOW: frozenset(),
}


def can_transition(current: str, target: str) -> bool:
    return target in CLAIM_TRANSITIONS.get(current, frozenset())


class Claim(db.Model):
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    # Copied from the shift so the database can forbid overlapping seats per agent.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=ClaimStatus.CLAIMED)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    via_waitlist: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Attendance (app/work): paid minutes are the overlap of [checked_in_at, checked_out_at] with the shift.
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worked_minutes: Mapped[int | None] = mapped_column(Integer)
    left_early: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    shift: Mapped[Shift] = relationship()
    agent: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(
            "status IN ('claimed','checked_in','completed','settled','released','late_cancelled',"
            "'cancelled','no_show')",
            name="status_known",
        ),
        CheckConstraint(
            "is_active = (status IN ('claimed','checked_in','completed','settled'))", name="active_matches_status"
        ),
        # One seat per agent per shift.
        Index("uq_claims_active_shift_agent", "shift_id", "agent_id", unique=True,
              sqlite_where=text("is_active"), postgresql_where=text("is_active")),
        Index("ix_claims_agent_id_starts_at", "agent_id", "starts_at"),
        Index("ix_claims_shift_id", "shift_id"),
        Index("ix_claims_campaign_id", "campaign_id"),
        # The attendance and settlement sweeps walk only the claims in their state.
        Index("ix_claims_claimed_starts_at", "starts_at", sqlite_where=text("status = 'claimed'"),
              postgresql_where=text("status = 'claimed'")),
        Index("ix_claims_checked_in_ends_at", "ends_at", sqlite_where=text("status = 'checked_in'"),
              postgresql_where=text("status = 'checked_in'")),
        Index("ix_claims_completed_id", "id", sqlite_where=text("status = 'completed'"),
              postgresql_where=text("status = 'completed'")),
    )


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    PROMOTED = "promoted"
    LEFT = "left"
    SKIPPED = "skipped"  # no longer eligible when a seat freed


class WaitlistEntry(db.Model):
    __tablename__ = "waitlist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default=WaitlistStatus.WAITING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    shift: Mapped[Shift] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('waiting','promoted','left','skipped')", name="status_known"),
        Index("uq_waitlist_entries_waiting", "shift_id", "agent_id", unique=True,
              sqlite_where=text("status = 'waiting'"), postgresql_where=text("status = 'waiting'")),
        Index("ix_waitlist_entries_shift_id_created_at", "shift_id", "created_at"),
        Index("ix_waitlist_entries_agent_id", "agent_id"),
    )
