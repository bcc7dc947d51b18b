"""Reads for the webhook settings page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoints_of(session: Session, organisation_id: int) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation_id)
                                .order_by(WebhookEndpoint.id)))


def recent_deliveries(session: Session, organisation_id: int, limit: int = 30) -> list[tuple[WebhookDelivery, str]]:
    """The organisation's latest deliveries with their endpoint's URL, newest first."""
    return list(session.execute(
        select(WebhookDelivery, WebhookEndpoint.url)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookEndpoint.organisation_id == organisation_id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)
    ).all())
