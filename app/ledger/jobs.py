"""Money sweeps run by the worker: settle completed claims, refund ended campaigns.

Both reconcile from state (every completed claim, every ended campaign with escrow left), so a job
lost between commit and enqueue only delays money, and running one twice pays once.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.contacts.queries import contacts_handled_by_claim, successes_by_claim
from app.core.db import is_retryable
from app.core.jobs import job
from app.ledger.services import refund_ended_campaigns
from app.ledger.settlement import settle_due_claims

MAX_BATCHES_PER_RUN = 50
RETRIES = 3


@job("ledger.settle_due", queue="default", every=60)
def settle_due_job(session, now) -> None:
    """Settle every completed claim, a batch (SETTLE_BATCH_SIZE claims) per transaction."""
    config = current_app.config
    limit = config["SETTLE_BATCH_SIZE"]
    for _ in range(MAX_BATCHES_PER_RUN):
        for attempt in range(RETRIES):
            try:
                result = settle_due_claims(
                    session, now=now, commission_bps=config["PLATFORM_COMMISSION_BPS"],
                    dispute_window=timedelta(hours=config["DISPUTE_WINDOW_HOURS"]), limit=limit,
                    contacts_by_claim=lambda ids: contacts_handled_by_claim(session, ids),
                    successes_by_claim=lambda ids: successes_by_claim(session, ids))
                session.commit()
                break
            except Exception as exc:
                session.rollback()
                if attempt == RETRIES - 1 or not is_retryable(exc):
                    raise
        if result.claims < limit:
            return


@job("ledger.refund_ended_campaigns", queue="default", every=300)
def refund_ended_campaigns_job(session, now) -> None:
    """Give ended campaigns' unused escrow back to the clients' wallets."""
    refund_ended_campaigns(session, now=now, commission_bps=current_app.config["PLATFORM_COMMISSION_BPS"])
