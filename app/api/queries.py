"""Bounded reads for the API: keyset pages of campaigns, fill figures, handled time per contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.campaigns.models import Campaign, Shift, ShiftStatus
from app.contacts.models import ContactAttempt


def campaigns_page(session: Session, organisation_id: int, *, before: int | None,
                   limit: int) -> tuple[list[Campaign], bool]:
    """An organisation's campaigns, newest (highest id) first; `before` is the last id of the previous page."""
    query = (select(Campaign).where(Campaign.organisation_id == organisation_id)
             .options(selectinload(Campaign.required_tags)).order_by(Campaign.id.desc()).limit(limit + 1))
    if before is not None:
        query = query.where(Campaign.id < before)
    rows = list(session.scalars(query))
    return rows[:limit], len(rows) > limit


def fill_of(session: Session, campaign_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """(open shifts, seats offered, seats taken) per campaign."""
    if not campaign_ids:
        return {}
    rows = session.execute(
        select(Shift.campaign_id, func.count(Shift.id), func.coalesce(func.sum(Shift.seats), 0),
               func.coalesce(func.sum(Shift.seats_taken), 0))
        .where(Shift.campaign_id.in_(campaign_ids), Shift.status == ShiftStatus.OPEN).group_by(Shift.campaign_id)
    ).all()
    found = {cid: (int(n), int(seats), int(taken)) for cid, n, seats, taken in rows}
    return {cid: found.get(cid, (0, 0, 0)) for cid in campaign_ids}


def shifts_in_windows(session: Session, campaign_id: int, windows: list[tuple[datetime, datetime]]) -> list[Shift]:
    """The campaign's shifts with exactly these windows (those just added and those that already existed)."""
    if not windows:
        return []
    wanted = set(windows)
    first, last = min(s for s, _ in windows), max(s for s, _ in windows)
    rows = session.scalars(select(Shift).where(Shift.campaign_id == campaign_id, Shift.starts_at >= first,
                                               Shift.starts_at <= last).order_by(Shift.starts_at, Shift.id))
    return [s for s in rows if (s.starts_at, s.ends_at) in wanted]


def handled_seconds(session: Session, contact_ids: list[int]) -> dict[int, int]:
    """Total call time recorded on each contact (sum of its attempts' durations)."""
    if not contact_ids:
        return {}
    rows = session.execute(
        select(ContactAttempt.contact_id, func.coalesce(func.sum(ContactAttempt.duration_seconds), 0))
        .where(ContactAttempt.contact_id.in_(contact_ids)).group_by(ContactAttempt.contact_id)
    ).all()
    return {cid: int(total) for cid, total in rows}
