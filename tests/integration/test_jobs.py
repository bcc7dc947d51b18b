"""Jobs: the outbox row commits with the change, the relay runs it (in-process or through RQ), retries."""

import os

import pytest
from sqlalchemy import select

from app.claims import services as claims
from app.claims.models import Claim
from app.core import clock, jobs
from app.core.models import OutboxJob
from app.notifications.models import Notification
from tests.integration.web import logged_in, redirected_to

TAGS = ("industry.ecommerce",)
EMAILS = "notifications.send_emails"


@pytest.fixture
def promotion(factory, make_browser, session):
    """A full one-seat shift, its holder logged in, and an agent waiting for the seat."""
    shift = factory.shifts(factory.campaign(tags=TAGS, shifts=[(24, 2, 1)]))[0]
    holder, waiter = factory.agent(tags=TAGS), factory.agent(tags=TAGS)
    claim = claims.claim_shift(session, agent=holder, shift_id=shift.id, now=clock.now())
    session.commit()
    claims.join_waitlist(session, agent=waiter, shift_id=shift.id, now=clock.now())
    session.commit()
    return {"shift": shift, "claim": claim, "waiter": waiter, "web": logged_in(make_browser, holder)}


def release(promotion):
    response = promotion["web"].post(f"/agent/claims/{promotion['claim'].id}/release")
    assert redirected_to(response, "/agent/my-shifts"), response.status_code
    return response


def email_rows(session):
    session.expire_all()
    return session.scalars(select(OutboxJob).where(OutboxJob.name == EMAILS)).all()


def promoted_notification(session, waiter):
    session.expire_all()
    return session.scalar(select(Notification).where(Notification.user_id == waiter.id,
                                                     Notification.kind == "waitlist.promoted"))


def counting(monkeypatch, name: str, fail: list | None = None) -> list:
    """Wrap a registered job: count its runs; raise while `fail` is non-empty."""
    spec = jobs.REGISTRY[name]
    runs: list[int] = []

    def wrapped(session, now, **kwargs):
        runs.append(1)
        if fail:
            raise RuntimeError(fail[0])
        return spec.func(session, now, **kwargs)

    monkeypatch.setitem(jobs.REGISTRY, name, jobs.JobSpec(name, wrapped, spec.queue))
    return runs


# --- in-process (embedded) ----------------------------------------------------------------------

def test_a_promotions_email_job_runs_in_process_after_the_request_commits(promotion, session):
    release(promotion)
    note = promoted_notification(session, promotion["waiter"])
    assert note is not None and note.emailed_at == clock.now()
    assert session.scalar(select(Claim.agent_id).where(Claim.shift_id == promotion["shift"].id, Claim.is_active)) \
        == promotion["waiter"].id
    [row] = email_rows(session)
    assert row.delivered_at == row.completed_at == clock.now()
    assert (row.attempts, row.last_error, row.queue) == (1, None, "low")


def test_a_job_whose_transaction_rolls_back_never_runs(session, monkeypatch):
    runs = counting(monkeypatch, EMAILS)
    jobs.enqueue(session, EMAILS)
    session.flush()
    session.rollback()
    assert jobs.relay_outbox() == 0
    assert runs == [] and session.scalars(select(OutboxJob)).all() == []
    jobs.enqueue(session, EMAILS)
    session.commit()
    assert jobs.relay_outbox() == 1 and runs == [1]


def test_a_failing_job_stays_pending_with_its_error_and_the_periodic_relay_retries_it(promotion, session,
                                                                                      monkeypatch):
    failure = ["SMTP is down"]
    runs = counting(monkeypatch, EMAILS, fail=failure)
    release(promotion)  # the request still succeeds: the job failed after the commit
    [row] = email_rows(session)
    assert row.delivered_at is None and row.completed_at is None
    assert row.attempts == 1 and "RuntimeError: SMTP is down" in row.last_error
    assert promoted_notification(session, promotion["waiter"]).emailed_at is None

    jobs.run_job_now("core.relay_outbox")  # still failing: counted again, still pending
    [row] = email_rows(session)
    assert (row.attempts, row.delivered_at) == (2, None)

    failure.clear()
    jobs.run_job_now("core.relay_outbox")
    [row] = email_rows(session)
    assert row.completed_at is not None and row.attempts == 3
    assert promoted_notification(session, promotion["waiter"]).emailed_at is not None
    jobs.run_job_now("core.relay_outbox")
    assert len(runs) == 3


def test_an_unknown_job_name_is_refused_at_enqueue(session):
    with pytest.raises(KeyError):
        jobs.enqueue(session, "no.such.job")


# --- through Redis and RQ --------------------------------------------------------------------------

REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")


@pytest.fixture
def redis_conn():
    from redis import Redis

    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


def use_redis(app, monkeypatch, url):
    monkeypatch.setitem(app.config, "JOBS_IN_PROCESS", False)
    monkeypatch.setitem(app.config, "REDIS_URL", url)


def queued(conn, queue="low") -> list[str]:
    from rq import Queue

    return Queue(queue, connection=conn).job_ids


def work(conn) -> None:
    from rq import Queue, SimpleWorker

    worker = SimpleWorker([Queue(q, connection=conn) for q in jobs.QUEUES], connection=conn)
    worker.work(burst=True)


@needs_redis
def test_with_redis_the_relay_puts_the_job_on_rq_and_a_worker_runs_it(app, promotion, session, monkeypatch,
                                                                        redis_conn):
    use_redis(app, monkeypatch, REDIS_URL)
    runs = counting(monkeypatch, EMAILS)
    release(promotion)
    [row] = email_rows(session)
    assert row.delivered_at is not None and row.completed_at is None
    assert queued(redis_conn) == [f"outbox-{row.id}"]
    assert runs == [] and promoted_notification(session, promotion["waiter"]).emailed_at is None

    work(redis_conn)
    [row] = email_rows(session)
    assert row.completed_at is not None and runs == [1]
    assert promoted_notification(session, promotion["waiter"]).emailed_at is not None
    assert queued(redis_conn) == []


@needs_redis
def test_with_redis_down_the_commit_stands_and_the_job_is_delivered_once_it_returns(app, promotion, session,
                                                                                    monkeypatch, redis_conn):
    runs = counting(monkeypatch, EMAILS)
    use_redis(app, monkeypatch, "redis://127.0.0.1:1/0")
    release(promotion)  # no 500: the seat moved to the waiter, the job waits in the outbox
    assert promoted_notification(session, promotion["waiter"]) is not None
    [row] = email_rows(session)
    assert row.delivered_at is None and row.completed_at is None
    ready = promotion["web"].get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["redis"] == "down"

    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    assert jobs.relay_outbox() == 1
    assert jobs.relay_outbox() == 0  # delivered rows are not sent again
    assert queued(redis_conn) == [f"outbox-{row.id}"]
    work(redis_conn)
    work(redis_conn)
    [row] = email_rows(session)
    assert row.completed_at is not None and runs == [1]
    assert promoted_notification(session, promotion["waiter"]).emailed_at is not None


@needs_redis
def test_a_job_delivered_twice_runs_once(app, session, monkeypatch, redis_conn):
    from app.core.redisq import enqueue_outbox_rows

    use_redis(app, monkeypatch, REDIS_URL)
    runs = counting(monkeypatch, EMAILS)
    row = jobs.enqueue(session, EMAILS)
    session.commit()
    jobs.relay_outbox()
    enqueue_outbox_rows([(row.id, "low")])  # e.g. a relay whose commit was lost re-sends it
    work(redis_conn)
    assert runs == [1]


def test_jobs_that_keep_failing_stop_being_retried_and_do_not_starve_new_ones(app, session):
    from app.core import jobs
    from app.core.models import OutboxJob

    calls = []

    @jobs.job("tests.always_fails")
    def always_fails(session, now):
        calls.append("fail")
        raise RuntimeError("boom")

    @jobs.job("tests.works")
    def works(session, now):
        calls.append("ok")

    try:
        jobs.enqueue(session, "tests.always_fails")
        session.commit()
        for _ in range(jobs.MAX_ATTEMPTS + 3):
            jobs.relay_outbox()
        assert calls.count("fail") == jobs.MAX_ATTEMPTS
        jobs.enqueue(session, "tests.works")
        session.commit()
        jobs.relay_outbox(limit=1)
        assert calls[-1] == "ok"
        dead = session.scalar(select(OutboxJob).where(OutboxJob.name == "tests.always_fails"))
        assert dead.delivered_at is None and "boom" in dead.last_error
    finally:
        jobs.REGISTRY.pop("tests.always_fails", None)
        jobs.REGISTRY.pop("tests.works", None)
