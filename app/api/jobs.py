"""Periodic API housekeeping."""

from app.api.services import purge_idempotency_keys
from app.core.jobs import job


@job("api.purge_idempotency_keys", queue="low", every=3600)
def purge_idempotency_keys_job(session, now) -> None:
    """Stored answers to idempotent requests are kept 24 hours."""
    purge_idempotency_keys(session, now=now)
