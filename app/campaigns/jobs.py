"""Periodic campaign work."""

from app.campaigns.services import advance_campaigns
from app.core.jobs import job


@job("campaigns.advance", queue="default", every=60)
def advance_campaigns_job(session, now) -> None:
    """Published -> running -> completed as shifts start and end."""
    advance_campaigns(session, now=now)
