"""`python -m bench ratings [--small]`: recompute ratings for 60,000 agents from 1,000,000 surveys.

Builds a scratch database with the migrations, fills it set-based (agents, one campaign, one worked claim
per agent, inbound contacts and answered surveys), then times the real `recompute_ratings` against the
bare SQL floor: the survey aggregate alone (one grouped SELECT). Checks: every agent with surveys gets a
rating; a second recompute changes nothing (ratings are recomputed, not incremented).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import timedelta

from sqlalchemy import func, insert, select, text

from bench.common import database_url, make_app, timed

SIZES = {"full": (60_000, 1_000_000), "small": (6_000, 100_000), "tiny": (300, 3_000)}
CHUNK = 20_000


def _chunks(rows, size=CHUNK):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _fill(session, agents: int, surveys: int, now) -> None:
    from app.campaigns.models import Campaign, Shift
    from app.claims.models import Claim
    from app.contacts.models import InboundContact
    from app.members.models import Organisation, User
    from app.quality.models import Survey

    rng = random.Random(7)
    org_id = session.execute(
        insert(Organisation).values(name="Bench", created_at=now).returning(Organisation.id)).scalar()
    client_id = session.execute(insert(User).values(
        email="bench-client@example.cn", password_hash="x", name="c", role="client", status="active", tier=0,
        organisation_id=org_id, created_at=now, session_version=1, failed_logins=0).returning(User.id)).scalar()
    session.execute(insert(User), [
        {"email": f"bench{i}@example.cn", "password_hash": "x", "name": f"坐席{i}", "role": "agent",
         "status": "active", "tier": 1, "created_at": now, "session_version": 1, "failed_logins": 0}
        for i in range(agents)])
    agent_ids = list(session.scalars(select(User.id).where(User.role == "agent").order_by(User.id)))
    start = now - timedelta(days=200)
    campaign_id = session.execute(insert(Campaign).values(
        organisation_id=org_id, name="bench", kind="inbound", industry="industry.ecommerce", description="",
        script="", min_tier=1, rate_fen_per_hour=3000, bonus_fen_per_contact=0, budget_fen=10**9,
        starts_on=start.date(), ends_on=now.date(), status="running", created_by_id=client_id, created_at=start,
    ).returning(Campaign.id)).scalar()
    shift_id = session.execute(insert(Shift).values(
        campaign_id=campaign_id, starts_at=start, ends_at=start + timedelta(hours=2), seats=5000, seats_taken=0,
        status="open", created_at=start).returning(Shift.id)).scalar()
    for part in _chunks(agent_ids):
        session.execute(insert(Claim), [
            {"shift_id": shift_id, "agent_id": a, "campaign_id": campaign_id, "starts_at": start,
             "ends_at": start + timedelta(hours=2), "status": "completed", "is_active": True,
             "via_waitlist": False, "claimed_at": start} for a in part])
    claim_of = dict(session.execute(select(Claim.agent_id, Claim.id)).all())
    done = 0
    while done < surveys:
        n = min(CHUNK, surveys - done)
        picks = [rng.choice(agent_ids) for _ in range(n)]
        first = session.scalar(select(func.coalesce(func.max(InboundContact.id), 0)))
        session.execute(insert(InboundContact), [
            {"campaign_id": campaign_id, "claim_id": claim_of[a], "agent_id": a, "channel": "phone",
             "category": "order", "resolution": "resolved", "duration_seconds": 120, "notes": "",
             "created_at": now} for a in picks])
        ids = list(session.scalars(select(InboundContact.id).where(InboundContact.id > first)
                                   .order_by(InboundContact.id)))
        session.execute(insert(Survey), [
            {"inbound_id": cid, "attempt_id": None, "campaign_id": campaign_id, "claim_id": claim_of[a],
             "agent_id": a, "created_at": now, "expires_at": now + timedelta(days=7),
             "answered_at": now - timedelta(days=rng.randint(0, 300)),
             "score": rng.choices([1, 2, 3, 4, 5], weights=[3, 4, 10, 30, 53])[0], "comment": None}
            for cid, a in zip(ids, picks, strict=True)])
        done += n
    session.commit()


def main(argv: list[str]) -> dict:
    size = "tiny" if "--tiny" in argv else "small" if "--small" in argv else "full"
    agents, surveys = SIZES[size]
    url = database_url()
    app = make_app(url)
    figures: dict = {"size": size, "agents": agents, "surveys": surveys,
                     "database": "postgresql" if url.startswith("postgres") else "sqlite"}
    from app.core import clock
    from app.core.db import db
    from app.quality.models import AgentRating, Survey
    from app.ratings.services import recompute_ratings

    with app.app_context():
        now = clock.now()
        session = db.session
        with timed(figures, "fill_s"):
            _fill(session, agents, surveys, now)
        print(f"filled {agents} agents / {surveys} surveys in {figures['fill_s']} s", file=sys.stderr)
        statements = []
        from sqlalchemy import event

        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        start = time.perf_counter()
        first = recompute_ratings(session, now=now)
        session.commit()
        figures["recompute_s"] = round(time.perf_counter() - start, 3)
        event.remove(db.engine, "before_cursor_execute", listener)
        figures["sql_statements"] = len(statements)
        start = time.perf_counter()
        session.execute(select(Survey.agent_id, func.sum(Survey.score), func.count(Survey.id))
                        .where(Survey.answered_at.is_not(None)).group_by(Survey.agent_id)).all()
        figures["floor_s"] = round(time.perf_counter() - start, 3)
        figures["ratio_to_floor"] = round(figures["recompute_s"] / max(figures["floor_s"], 1e-6), 1)
        figures["surveys_per_s"] = round(surveys / figures["recompute_s"])
        rated = session.scalar(select(func.count(AgentRating.agent_id)))
        with_surveys = session.scalar(select(func.count(func.distinct(Survey.agent_id))))
        second = recompute_ratings(session, now=now)
        session.commit()
        figures.update(rated=rated, agents_with_surveys=with_surveys, first=first, second=second)
        figures["ok"] = rated >= with_surveys and second["changes"] == 0 and second["tier_moves"] == 0
        if url.startswith("postgres"):
            session.execute(text("SELECT 1"))
    return figures
