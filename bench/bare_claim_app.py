"""The ceiling for the claim path: a bare Flask endpoint that runs only the claim transaction.

    DATABASE_URL=postgresql://... gunicorn -c python:app.gunicorn_conf 'bench.bare_claim_app:create_app()'

No login, sessions, CSRF, ORM, templates or job relay: the agent comes in the form (`agent_id`), the
endpoint runs the same conditional `UPDATE shifts … RETURNING` (with the same eligibility predicates
as `app.claims.services._take_seat`, built from `app.claims.queries`) and the `INSERT INTO claims`
in one transaction with SQLAlchemy Core, and answers 302 (seat taken) or 409 (refused). The claim
storm bench runs it under the same gunicorn settings and load generator as the real app, and also
compiles the same two statements for its raw-psycopg phase.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Integer, bindparam, create_engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from app.core.db import driver_url


def _models():
    from app.campaigns.models import Campaign, Shift
    from app.claims.models import Claim
    from app.claims.queries import campaign_open_to, shift_open_to
    from app.core.db import UTCDateTime

    return Campaign, Shift, Claim, campaign_open_to, shift_open_to, UTCDateTime


@lru_cache(maxsize=1)
def claim_statements():
    """(take_seat, insert_claim): Core statements with bind parameters agent_id, shift_id, now
    (and campaign_id, starts_at, ends_at for the insert). The UPDATE mirrors _take_seat."""
    Campaign, Shift, Claim, campaign_open_to, shift_open_to, UTCDateTime = _models()
    agent_id = bindparam("agent_id", None, type_=Integer())
    shift_id = bindparam("shift_id", None, type_=Integer())
    now = bindparam("now", None, type_=UTCDateTime())
    eligible_campaign = (
        select(Campaign.id).where(Campaign.id == Shift.campaign_id, *campaign_open_to(agent_id, now)).exists()
    )
    take_seat = (
        update(Shift.__table__)
        .where(Shift.id == shift_id, Shift.seats_taken < Shift.seats, *shift_open_to(agent_id, now),
               eligible_campaign)
        .values(seats_taken=Shift.seats_taken + 1)
        .returning(Shift.starts_at, Shift.ends_at, Shift.campaign_id)
    )
    insert_claim = insert(Claim.__table__).values(
        shift_id=shift_id, agent_id=agent_id, campaign_id=bindparam("campaign_id", None, type_=Integer()),
        starts_at=bindparam("starts_at", None, type_=UTCDateTime()),
        ends_at=bindparam("ends_at", None, type_=UTCDateTime()),
        status="claimed", is_active=True, via_waitlist=False, left_early=False, claimed_at=now,
    )
    return take_seat, insert_claim


def create_app():
    from flask import Flask, jsonify, redirect, request

    take_seat, insert_claim = claim_statements()
    # The same pool settings as ProductionConfig.
    engine = create_engine(driver_url(os.environ["DATABASE_URL"]), pool_pre_ping=True, pool_size=5, max_overflow=5)
    app = Flask(__name__)

    @app.post("/agent/shifts/<int:shift_id>/claim")
    def claim(shift_id: int):
        agent_id = int(request.form["agent_id"])
        now = datetime.now(UTC)
        with engine.connect() as conn, conn.begin() as tx:
            row = conn.execute(take_seat, {"agent_id": agent_id, "shift_id": shift_id, "now": now}).first()
            if row is None:
                tx.rollback()
                return "refused", 409
            try:
                conn.execute(insert_claim, {"agent_id": agent_id, "shift_id": shift_id, "now": now,
                                            "campaign_id": row.campaign_id, "starts_at": row.starts_at,
                                            "ends_at": row.ends_at})
            except IntegrityError:  # a concurrent claim of the same agent won (same or overlapping shift)
                tx.rollback()
                return "refused", 409
        return redirect(f"/agent/shifts/{shift_id}")

    @app.get("/readyz")
    def readyz():
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return jsonify(status="ok")

    return app
