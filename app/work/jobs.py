"""Attendance sweeps run by the worker (periodic, batched, idempotent)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.core.jobs import job
from app.work.services import complete_ended_shifts, sweep_no_shows

BATCH = 2000
MAX_BATCHES_PER_RUN = 50


@job("work.sweep_no_shows", queue="default", every=60)
def sweep_no_shows_job(session, now) -> None:
    """Seats still unclaimed after start + grace become no-shows; each batch commits on its own."""
    grace = timedelta(minutes=current_app.config["NO_SHOW_GRACE_MINUTES"])
    for _ in range(MAX_BATCHES_PER_RUN):
        done = sweep_no_shows(session, now=now, grace=grace, limit=BATCH)
        session.commit()
        if done < BATCH:
            return


@job("work.complete_ended_shifts", queue="default", every=60)
def complete_ended_shifts_job(session, now) -> None:
    """Agents still checked in when their shift ended are checked out at the end."""
    for _ in range(MAX_BATCHES_PER_RUN):
        done = complete_ended_shifts(session, now=now, limit=BATCH)
        session.commit()
        if done < BATCH:
            return
