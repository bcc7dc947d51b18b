"""Faults: a settling worker killed with SIGKILL, and Redis down while shifts complete."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from app.claims.models import Claim
from app.core import clock, jobs
from app.ledger.models import Settlement
from app.members.models import User
from tests.ledger_support import assert_ledger_sound, funded_campaign, settle, shift_of

ROOT = Path(__file__).resolve().parents[2]
KILLABLE_SETTLER = """
import sys, time
from datetime import datetime, timedelta
from app import create_app
from config import TestConfig
app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=sys.argv[1])
with app.app_context():
    from app.core.db import db
    from app.ledger.settlement import settle_due_claims
    now = datetime.fromisoformat(sys.argv[2])
    while True:
        result = settle_due_claims(db.session, now=now, commission_bps=1000, dispute_window=timedelta(hours=48),
                                   limit=10)
        db.session.commit()
        print(result.claims, flush=True)
        if result.claims == 0:
            break
        time.sleep(0.2)
"""


def _completed_claims(session, factory, n: int):
    campaign = funded_campaign(factory, session, shifts=((24, 2, 1000),), budget_fen=50_000_000)
    shift = shift_of(session, campaign)
    now = clock.now()
    session.execute(insert(User), [
        {"email": f"fault{i}@example.cn", "password_hash": "x", "name": f"坐席{i}", "role": "agent",
         "status": "active", "tier": 1, "created_at": now, "session_version": 1, "failed_logins": 0}
        for i in range(n)])
    agents = list(session.scalars(select(User.id).where(User.email.like("fault%"))))
    session.execute(insert(Claim), [
        {"shift_id": shift.id, "agent_id": a, "campaign_id": campaign.id, "starts_at": shift.starts_at,
         "ends_at": shift.ends_at, "status": "completed", "is_active": True, "via_waitlist": False,
         "claimed_at": now, "checked_in_at": shift.starts_at, "checked_out_at": shift.ends_at,
         "worked_minutes": 120, "left_early": False} for a in agents])
    session.execute(update(type(shift)).where(type(shift).id == shift.id).values(seats_taken=n))
    session.commit()
    return campaign, shift


def test_a_settling_worker_killed_mid_run_leaves_every_claim_settled_exactly_once(app, session, factory):
    campaign, shift = _completed_claims(session, factory, 120)
    settle_at = shift.ends_at + timedelta(minutes=5)
    session.rollback()  # SQLite: release this connection's lock so the worker can write
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE_SETTLER, app.config["SQLALCHEMY_DATABASE_URI"],
                             settle_at.isoformat()], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # one batch committed, the worker is busy with the next ones
        assert first.strip() == "10", first
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
    session.rollback()
    settled_before = session.scalar(select(func.count(Settlement.id)))
    assert 10 <= settled_before < 120  # killed part-way
    settle(session, now=settle_at)  # the restarted worker
    settle(session, now=settle_at)  # and a duplicate delivery
    assert session.scalar(select(func.count(Settlement.id))) == 120
    assert session.scalar(select(func.count(func.distinct(Settlement.claim_id)))) == 120
    assert session.scalar(select(func.count(Claim.id)).where(Claim.status == "completed")) == 0
    assert_ledger_sound(session)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not shutil.which("redis-server") or not os.environ.get("TEST_REDIS_URL"),
                    reason="needs redis-server (run with TEST_REDIS_URL, as CI does)")
def test_jobs_requested_while_redis_is_down_run_once_it_is_back(app, session, factory, tmp_path):
    """The outbox keeps what Redis could not take; settlement itself sweeps from state and needs no job."""
    from rq import SimpleWorker

    from app.claims import services as claims
    from app.core.models import OutboxJob
    from app.notifications.models import Notification

    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    app.config.update(JOBS_IN_PROCESS=False, REDIS_URL=url)
    try:
        # Redis is down: a client cancels a shift with seats held; the commit succeeds, the job waits.
        campaign = factory.campaign(tags=(), shifts=[(24, 2, 3)])
        agent = factory.agent()
        claims.claim_shift(session, agent=agent, shift_id=factory.shifts(campaign)[0].id, now=clock.now())
        session.commit()
        claims.cancel_campaign(session, campaign=campaign, actor_id=campaign.created_by_id, now=clock.now())
        session.commit()
        from redis.exceptions import ConnectionError as RedisDown

        with pytest.raises(RedisDown):
            jobs.relay_outbox()
        session.rollback()
        pending = session.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.delivered_at.is_(None)))
        assert pending >= 1

        server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
        try:
            from redis import Redis

            for _ in range(50):
                try:
                    if Redis.from_url(url).ping():
                        break
                except Exception:
                    time.sleep(0.1)
            assert jobs.relay_outbox() == pending
            assert jobs.relay_outbox() == 0  # delivered once
            from app.core.redisq import redis_connection

            SimpleWorker(list(jobs.QUEUES), connection=redis_connection()).work(burst=True)
            session.rollback()
            assert session.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.completed_at.is_(None))) == 0
            emailed = session.scalar(select(Notification.emailed_at).where(Notification.user_id == agent.id))
            assert emailed is not None
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        app.config.update(JOBS_IN_PROCESS=True, REDIS_URL=None)
