"""Webhook jobs: deliver what an event just wrote, and retry what is due."""

from __future__ import annotations

from flask import current_app

from app.core.jobs import job
from app.webhooks import services


def _settings() -> dict:
    config = current_app.config
    return {"timeout": float(config["WEBHOOK_TIMEOUT_SECONDS"]), "max_attempts": int(config["WEBHOOK_MAX_ATTEMPTS"]),
            "allow_private": bool(config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"])}


@job("webhooks.deliver", queue="default")
def deliver_job(session, now, delivery_ids: list[int]) -> None:
    """First attempt of freshly emitted deliveries (a delivery not due any more is skipped)."""
    services.deliver(session, delivery_ids=delivery_ids, now=now, **_settings())


@job("webhooks.deliver_due", queue="default", every=60)
def deliver_due_job(session, now) -> None:
    """Every minute: retries whose next_attempt_at has come, and deliveries whose first job was lost."""
    ids = services.due_delivery_ids(session, now=now)
    if ids:
        services.deliver(session, delivery_ids=ids, now=now, **_settings())
