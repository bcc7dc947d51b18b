"""Reads for clients and admins: campaign lists with fill."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign, Shift, ShiftStatus


def campaigns_of(session: Session, organisation_id: int) -> list[tuple[Campaign, int, int, int]]:
    """Each campaign with (shift count, seats offered, seats taken) in one query."""
    stats = (
        select(Shift.campaign_id, func.count(Shift.id).label("shifts"), func.sum(Shift.seats).label("seats"),
               func.sum(Shift.seats_taken).label("taken"))
        .where(Shift.status == ShiftStatus.OPEN).group_by(Shift.campaign_id).subquery()
    )
    rows = session.execute(
        select(Campaign, stats.c.shifts, stats.c.seats, stats.c.taken)
        .outerjoin(stats, stats.c.campaign_id == Campaign.id)
        .where(Campaign.organisation_id == organisation_id).order_by(Campaign.created_at.desc())
    ).all()
    return [(c, shifts or 0, seats or 0, taken or 0) for c, shifts, seats, taken in rows]

