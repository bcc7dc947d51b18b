"""Jobs: a registry of plain service-layer functions, a transactional outbox and its relay.

A job is requested with `enqueue(session, name, **kwargs)` inside the unit of work that needs
it; the row commits with that work. After commit the relay hands pending rows to RQ (production)
or runs them in-process (embedded). Rows left behind (Redis down, process killed) are picked up
by the periodic relay. Every job is idempotent, so delivering one twice is harmless.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g, has_app_context
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core import clock
from app.core.db import db
from app.core.models import OutboxJob

log = logging.getLogger(__name__)

QUEUES = ("high", "default", "low")
# An in-process job that failed this often is left for a person (it stays in outbox_jobs with its error).
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable
    queue: str


REGISTRY: dict[str, JobSpec] = {}


@dataclass(frozen=True)
class Periodic:
    name: str
    interval_seconds: int


# Periodic jobs: the in-process scheduler (embedded) and RQ's cron scheduler (production) read this.
PERIODIC: list[Periodic] = []


def job(name: str, *, queue: str = "default", every: int | None = None):
    """Register `func(session, now, **kwargs)` as a job; `every` seconds makes it periodic too."""

    def register(func: Callable) -> Callable:
        REGISTRY[name] = JobSpec(name, func, queue)
        if every:
            PERIODIC.append(Periodic(name, every))
        return func

    return register


def enqueue(session: Session, name: str, **kwargs) -> OutboxJob:
    """Record a job in the caller's transaction; it runs after that transaction commits."""
    if name not in REGISTRY:
        raise KeyError(f"unknown job {name}")
    row = OutboxJob(name=name, queue=REGISTRY[name].queue, payload=kwargs, created_at=clock.now(), attempts=0)
    session.add(row)
    session.info["outbox_pending"] = True
    return row


def run_job_now(name: str, **kwargs) -> None:
    """Run a registered job in its own unit of work (used by the relay, RQ and the CLI)."""
    spec = REGISTRY[name]
    session = db.session
    try:
        spec.func(session, clock.now(), **kwargs)
        session.commit()
    except Exception:
        session.rollback()
        raise


def execute_outbox_job(outbox_id: int) -> None:
    """RQ entry point: run one outbox row once (a second delivery finds it completed)."""
    session = db.session
    row = session.get(OutboxJob, outbox_id)
    if row is None or row.completed_at is not None:
        session.rollback()
        return
    name, payload = row.name, dict(row.payload or {})
    session.rollback()
    run_job_now(name, **payload)
    session.execute(update(OutboxJob).where(OutboxJob.id == outbox_id).values(completed_at=clock.now()))
    session.commit()


def relay_outbox(limit: int = 500) -> int:
    """Deliver pending outbox rows: to RQ when Redis is configured, else run them here."""
    session = db.session
    session.rollback()
    # Fresh rows first, so a few jobs that keep failing cannot starve the others.
    query = (select(OutboxJob.id)
             .where(OutboxJob.delivered_at.is_(None), OutboxJob.attempts < MAX_ATTEMPTS)
             .order_by(OutboxJob.attempts, OutboxJob.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        session.rollback()
        return 0
    if current_app.config.get("JOBS_IN_PROCESS", True):
        session.rollback()
        done = 0
        for outbox_id in ids:
            done += _run_in_process(outbox_id)
        return done
    from app.core.redisq import enqueue_outbox_rows

    rows = session.execute(select(OutboxJob.id, OutboxJob.queue).where(OutboxJob.id.in_(ids))).all()
    enqueue_outbox_rows(rows)  # raises if Redis is down: rows stay pending, the sweep retries
    session.execute(update(OutboxJob).where(OutboxJob.id.in_(ids)).values(delivered_at=clock.now()))
    session.commit()
    return len(ids)


def _run_in_process(outbox_id: int) -> int:
    session = db.session
    row = session.get(OutboxJob, outbox_id)
    if row is None or row.delivered_at is not None:
        session.rollback()
        return 0
    name, payload = row.name, dict(row.payload or {})
    session.rollback()
    try:
        run_job_now(name, **payload)
    except Exception as exc:  # recorded on the row and retried by the periodic relay
        log.exception("job %s (outbox %s) failed", name, outbox_id)
        session.execute(
            update(OutboxJob)
            .where(OutboxJob.id == outbox_id)
            .values(attempts=OutboxJob.attempts + 1, last_error="".join(traceback.format_exception_only(exc))[:2000])
        )
        session.commit()
        return 0
    now = clock.now()
    session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == outbox_id)
        .values(delivered_at=now, completed_at=now, attempts=OutboxJob.attempts + 1)
    )
    session.commit()
    return 1


@job("core.relay_outbox", queue="high", every=30)
def relay_outbox_job(session: Session, now) -> None:
    """Periodic safety net: deliver rows whose relay after commit did not happen."""
    session.commit()
    relay_outbox()


def mark_relay_needed(session: Session) -> None:
    """Called after a commit that wrote outbox rows: relay at the end of the request."""
    if session.info.pop("outbox_pending", False) and has_app_context():
        g.outbox_relay_needed = True


def relay_if_needed() -> None:
    """End of a request: relay what this request's commits recorded. Never fails the request."""
    if not g.pop("outbox_relay_needed", False):
        return
    try:
        relay_outbox()
    except Exception:
        log.exception("outbox relay failed; the periodic relay will retry")
        db.session.rollback()
