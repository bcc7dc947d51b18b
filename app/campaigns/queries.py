"""Reads for clients and admins: campaign lists with fill."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.campaigns.models import Campaign, Shift, ShiftStatus

FillRow = tuple[Campaign, int, int, int]


def _with_fill():
    """Campaigns with (shift count, seats offered, seats taken) of their open shifts, as one query."""
    stats = (
        select(Shift.campaign_id, func.count(Shift.id).label("shifts"), func.sum(Shift.seats).label("seats"),
               func.sum(Shift.seats_taken).label("taken"))
        .where(Shift.status == ShiftStatus.OPEN).group_by(Shift.campaign_id).subquery()
    )
    return (select(Campaign, stats.c.shifts, stats.c.seats, stats.c.taken)
            .outerjoin(stats, stats.c.campaign_id == Campaign.id).order_by(Campaign.created_at.desc()))


def _rows(session: Session, query) -> list[FillRow]:
    return [(c, shifts or 0, seats or 0, taken or 0) for c, shifts, seats, taken in session.execute(query)]


def campaigns_of(session: Session, organisation_id: int) -> list[FillRow]:
    """A client's campaigns, newest first."""
    return _rows(session, _with_fill().where(Campaign.organisation_id == organisation_id))


def all_campaigns(session: Session, *, status: str | None, page: int, per_page: int) -> list[FillRow]:
    """Every client's campaigns for the admin, newest first, optionally of one status."""
    query = _with_fill().options(joinedload(Campaign.organisation))
    if status:
        query = query.where(Campaign.status == status)
    return _rows(session, query.offset((page - 1) * per_page).limit(per_page))
