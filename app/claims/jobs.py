"""Marketplace jobs run by the worker."""

from app.claims.services import promote_all_waitlists, promote_waitlist
from app.core.jobs import job


@job("claims.promote_waitlist", queue="high")
def promote_waitlist_job(session, now, shift_id: int) -> None:
    """Hand a freed seat of one shift to the waitlist."""
    promote_waitlist(session, shift_id=shift_id, now=now)


@job("claims.promote_all_waitlists", queue="default", every=60)
def promote_all_waitlists_job(session, now) -> None:
    """Sweep: seats freed by anything (edits, revocations) still reach waiting agents."""
    promote_all_waitlists(session, now=now)
