"""Reads: contacts handled per claim (settlement), call lists, a campaign's contacts, the console's state."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.contacts.models import (
    SUCCESS_OUTCOMES,
    CallList,
    Contact,
    ContactAttempt,
    ContactStatus,
    InboundContact,
)

_CHUNK = 5000


def _chunks(ids: Iterable[int]):
    ids = sorted({int(i) for i in ids})
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def contacts_handled_by_claim(session: Session, claim_ids: Iterable[int]) -> dict[int, int]:
    """Contacts each claim handled: outbound calls with a recorded outcome plus inbound contacts logged.

    Every requested claim is in the answer (0 when it handled none), so settlement can index it directly.
    """
    counts: dict[int, int] = {}
    for chunk in _chunks(claim_ids):
        counts.update(dict.fromkeys(chunk, 0))
        for model in (ContactAttempt, InboundContact):
            for claim_id, n in session.execute(
                select(model.claim_id, func.count()).where(model.claim_id.in_(chunk)).group_by(model.claim_id)
            ):
                counts[claim_id] += n
    return counts


def successes_by_claim(session: Session, claim_ids: Iterable[int]) -> dict[int, int]:
    """Outbound calls with a success outcome (converted, reactivated) per claim; 0 for the others."""
    counts: dict[int, int] = {}
    for chunk in _chunks(claim_ids):
        counts.update(dict.fromkeys(chunk, 0))
        counts.update(dict(session.execute(
            select(ContactAttempt.claim_id, func.count())
            .where(ContactAttempt.claim_id.in_(chunk), ContactAttempt.outcome.in_([o.value for o in SUCCESS_OUTCOMES]))
            .group_by(ContactAttempt.claim_id)
        ).all()))
    return counts


def call_lists_of(session: Session, campaign_id: int) -> list[CallList]:
    return list(session.scalars(
        select(CallList).where(CallList.campaign_id == campaign_id)
        .order_by(CallList.created_at.desc(), CallList.id.desc())
    ))


def status_counts(session: Session, campaign_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Contact.status, func.count()).where(Contact.campaign_id == campaign_id).group_by(Contact.status)
    ).all()
    counts = {s.value: 0 for s in ContactStatus}
    counts.update({status: n for status, n in rows})
    return counts


def contacts_page(session: Session, campaign_id: int, *, status: str | None = None, after: int | None = None,
                  limit: int = 50) -> tuple[list[Contact], int | None]:
    """A page of a campaign's contacts by id (keyset); returns the rows and the cursor of the next page."""
    query = select(Contact).where(Contact.campaign_id == campaign_id)
    if status:
        query = query.where(Contact.status == status)
    if after:
        query = query.where(Contact.id > after)
    rows = list(session.scalars(query.order_by(Contact.id).limit(limit + 1)))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def handled_this_claim(session: Session, claim_id: int) -> dict[str, int]:
    """The console's tally for this shift."""
    calls = session.execute(
        select(func.count(), func.count().filter(ContactAttempt.outcome.in_([o.value for o in SUCCESS_OUTCOMES])))
        .where(ContactAttempt.claim_id == claim_id)
    ).one()
    inbound = session.scalar(select(func.count()).where(InboundContact.claim_id == claim_id))
    return {"handled": calls[0] + inbound, "successes": calls[1]}


def recent_inbound(session: Session, claim_id: int, limit: int = 10) -> list[InboundContact]:
    return list(session.scalars(
        select(InboundContact).where(InboundContact.claim_id == claim_id)
        .order_by(InboundContact.created_at.desc(), InboundContact.id.desc()).limit(limit)
    ))


def next_callback_at(session: Session, campaign_id: int) -> datetime | None:
    """When the earliest waiting callback comes back to the list."""
    return session.scalar(
        select(func.min(Contact.callback_at)).where(Contact.campaign_id == campaign_id,
                                                    Contact.status == ContactStatus.CALLBACK)
    )
