"""Faults: a settling worker killed with SIGKILL, and Redis down while shifts complete."""

import gc
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
from app.core.db import db, driver_url
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


# --- faults under load: Redis and PostgreSQL go away while a real server is busy -------------------------------
#
# A threaded werkzeug server serves the app in this process while client threads send real HTTP requests with
# signed session cookies and CSRF tokens (as bench/claim_storm.py does). Pass criteria are in docs/deploy.md
# ("When Redis or PostgreSQL goes away") and checked below.

USER_AGENT = "surgeline-tests/faults"


def _credentials(app, users: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """(session cookie, CSRF form token) per (user id, session version), as a login would leave them."""
    import secrets

    from flask_login.utils import _create_identifier
    from itsdangerous import URLSafeTimedSerializer

    signer = app.session_interface.get_signing_serializer(app)
    csrf = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token")
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}):
        identifier = _create_identifier()
    result = []
    for user_id, version in users:
        raw = secrets.token_hex(20)
        result.append((signer.dumps({"_user_id": f"{user_id}:{version}", "_fresh": True, "_id": identifier,
                                     "csrf_token": raw}), csrf.dumps(raw)))
    return result


class _Server:
    """The app behind a threaded werkzeug server on a free port, in this process."""

    def __init__(self, app):
        import threading

        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log(self, *args, **kwargs):
                pass

        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def request(self, method: str, path: str, credentials=None, *, lang: str = "en", timeout: float = 30):
        """(status, body text, Location); a connection error is status -1."""
        import http.client
        from urllib.parse import quote

        headers = {"User-Agent": USER_AGENT, "Accept-Language": lang}
        body = None
        if credentials:
            headers["Cookie"] = f"session={credentials[0]}"
        if method == "POST":
            body = f"csrf_token={quote(credentials[1])}" if credentials else ""
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace"), response.getheader("Location", "")
        except OSError as exc:
            return -1, repr(exc), ""
        finally:
            conn.close()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _wait_for(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def _redis_server(port: int, workdir: Path) -> subprocess.Popen:
    """A private redis-server with AOF on (as docs/deploy.md asks), so what it holds survives a restart."""
    from redis import Redis

    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL)
    _wait_for(lambda: Redis(port=port, socket_connect_timeout=0.5).ping())
    return proc


@pytest.mark.skipif(not shutil.which("redis-server") or not os.environ.get("TEST_REDIS_URL"),
                    reason="needs redis-server (run with TEST_REDIS_URL, as CI does)")
def test_redis_stopped_and_started_under_load_loses_no_job_and_fails_no_request(app, session, factory, tmp_path,
                                                                               monkeypatch):
    """Pass: every request of the load succeeds while Redis is down (pages 200, grabs and releases 302: jobs wait
    in the outbox); jobs were recorded during the outage; once Redis is back every outbox job of the run (those
    recorded during the outage and those Redis held across its restart) is delivered and executed exactly once."""
    import re
    import threading

    from redis import Redis
    from rq import SimpleWorker

    from app.core.models import OutboxJob

    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    pairs = 3
    campaign = factory.campaign(tags=(), shifts=[(24 + 3 * i, 2, 1) for i in range(pairs)])
    shifts = [s.id for s in factory.shifts(campaign)]
    agents = [factory.agent() for _ in range(2 * pairs)]
    session.commit()
    users = [(a.id, a.session_version) for a in agents]
    credentials = _credentials(app, users)
    session.rollback()  # SQLite: hold no lock while the server writes

    server_proc = _redis_server(port, tmp_path)
    app.config.update(JOBS_IN_PROCESS=False, REDIS_URL=url)
    server = _Server(app)
    stop = threading.Event()
    failures: list = []
    counts: dict[str, int] = {}
    phase = {"now": "before"}

    def expect(what: str, result, statuses) -> None:
        status, body, _ = result
        counts[f"{phase['now']}:{what}:{status}"] = counts.get(f"{phase['now']}:{what}:{status}", 0) + 1
        if status not in statuses:
            failures.append((phase["now"], what, status, body[:300]))

    def my_claim_id(creds, shift_id: int) -> int | None:
        status, body, _ = server.request("GET", "/agent/my-shifts", creds)
        expect("my_shifts", (status, body, ""), {200})
        found = re.findall(r'action="/agent/claims/(\d+)/release"', body)
        return int(found[0]) if found else None

    def pair(k: int) -> None:
        holder, waiter, shift_id = credentials[2 * k], credentials[2 * k + 1], shifts[k]
        while not stop.is_set():
            expect("claim", server.request("POST", f"/agent/shifts/{shift_id}/claim", holder), {302})
            expect("waitlist", server.request("POST", f"/agent/shifts/{shift_id}/waitlist", waiter), {302})
            expect("board", server.request("GET", "/agent/shifts", waiter), {200})
            # The holder lets go: the waiter is promoted and told (a notification and an e-mail job).
            held = my_claim_id(holder, shift_id)
            expect("release", server.request("POST", f"/agent/claims/{held}/release", holder), {302})
            promoted = my_claim_id(waiter, shift_id)
            if promoted is None:
                failures.append((phase["now"], "promotion", None, "the waiter was not promoted"))
                return
            expect("release", server.request("POST", f"/agent/claims/{promoted}/release", waiter), {302})

    def last_outbox_id() -> int:
        session.rollback()
        value = session.scalar(select(func.max(OutboxJob.id))) or 0
        session.rollback()
        return value

    threads = [threading.Thread(target=pair, args=(k,)) for k in range(pairs)]
    try:
        for t in threads:
            t.start()
        time.sleep(1.5)
        phase["now"] = "outage"
        before_outage = last_outbox_id()
        server_proc.terminate()  # SIGTERM: Redis writes its AOF and exits
        server_proc.wait(timeout=20)
        time.sleep(2.5)
        end_of_outage = last_outbox_id()
        session.rollback()
        waiting = session.scalar(select(func.count(OutboxJob.id)).where(
            OutboxJob.id > before_outage, OutboxJob.id <= end_of_outage, OutboxJob.delivered_at.is_(None)))
        session.rollback()
        server_proc = _redis_server(port, tmp_path)
        phase["now"] = "after"
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        server.stop()
    try:
        assert failures == [], failures[:5]
        assert counts.get("outage:claim:302", 0) >= pairs and counts.get("outage:release:302", 0) >= pairs, counts
        assert end_of_outage > before_outage, "no job was recorded while Redis was down"
        assert waiting == end_of_outage - before_outage  # ... and every one of them waited in the outbox

        # Redis is back: the periodic relay (core.relay_outbox) delivers what waited, then a worker runs it all.
        while jobs.relay_outbox():
            pass
        assert jobs.relay_outbox() == 0
        executed: list[int] = []
        real = jobs.execute_outbox_job

        def counting(outbox_id: int) -> None:
            executed.append(outbox_id)
            real(outbox_id)

        monkeypatch.setattr(jobs, "execute_outbox_job", counting)
        from app.core.redisq import redis_connection

        SimpleWorker(list(jobs.QUEUES), connection=redis_connection()).work(burst=True)
        session.rollback()
        rows = session.execute(select(OutboxJob.id, OutboxJob.delivered_at, OutboxJob.completed_at)).all()
        assert rows and all(r.delivered_at is not None and r.completed_at is not None for r in rows), \
            [r for r in rows if r.completed_at is None][:5]
        # Exactly once: one execution per outbox row, including the rows Redis held across its restart.
        assert sorted(executed) == sorted(r.id for r in rows)
        assert all(Redis.from_url(url).llen(f"rq:queue:{name}") == 0 for name in jobs.QUEUES)
    finally:
        server_proc.terminate()
        server_proc.wait(timeout=20)
        app.config.update(JOBS_IN_PROCESS=True, REDIS_URL=None)


def _postgres_bindir() -> Path | None:
    import glob

    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(bindir, "initdb").exists() and Path(bindir, "pg_ctl").exists():
            return Path(bindir)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


class _PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port (never the machine's shared server, which others use).

    initdb refuses to run as root: as root the cluster belongs to the `postgres` system user (runuser)."""

    def __init__(self, bindir: Path):
        import pwd
        import tempfile

        self.bindir, self.port = bindir, _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="surgeline-faults-pg-"))
        self.data, self.log = self.dir / "data", self.dir / "server.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.prefix, str(self.bindir / tool), *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.dir, ignore_errors=True)


# Connections the crash left behind are dropped by the pool; psycopg reports each one it garbage-collects while
# its socket is dead. They are collected at the end of this test (gc.collect below), not in a later test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning")
def test_postgresql_restarted_under_load_answers_503_then_recovers_by_itself():
    """Pass: while PostgreSQL is down every request is answered — a translated 503 "busy, try again" page with a
    Retry-After header, never a 500, a traceback or a dropped connection; afterwards the same server process
    (no restart) serves again within seconds (pool_pre_ping and the pool's invalidation replace dead connections):
    the last second of load has no 503, /readyz is 200, and the seat rules hold in the database."""
    import threading

    from flask_babel import force_locale, gettext
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from app import create_app
    from bench.claim_storm import seed
    from config import ProductionConfig, TestConfig

    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("needs the PostgreSQL server binaries (initdb, pg_ctl), e.g. /usr/lib/postgresql/15/bin")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root needs runuser to start PostgreSQL as the postgres user")
    pg = _PrivatePostgres(bindir)
    server = app = None
    try:
        pg.init()
        pg.start()
        # The production pool settings (pool_pre_ping, pool size) are what must recover.
        app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=pg.url,
                         SQLALCHEMY_ENGINE_OPTIONS=dict(ProductionConfig.SQLALCHEMY_ENGINE_OPTIONS))
        from flask_migrate import upgrade

        with app.app_context():
            upgrade(revision="heads")
            engine = db.engine
            data = seed(engine, shifts=20, seats=4, agents=60)
            busy_zh = None
            with app.test_request_context(), force_locale("zh"):
                busy_zh = gettext("The site is busy. Try again.")
        credentials = _credentials(app, [(a, 1) for a in data["agent_ids"]])
        server = _Server(app)
        log: list[tuple[float, str, int, str]] = []
        stop = threading.Event()

        def client(k: int) -> None:
            i = k
            while not stop.is_set():
                creds = credentials[i % len(credentials)]
                if i % 2:
                    what, result = "board", server.request("GET", "/agent/shifts", creds, timeout=20)
                else:
                    shift_id = data["shift_ids"][i % len(data["shift_ids"])]
                    what, result = "claim", server.request("POST", f"/agent/shifts/{shift_id}/claim", creds,
                                                           timeout=20)
                log.append((time.monotonic(), what, result[0], result[1]))
                i += 7
                time.sleep(0.01)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        down_at = time.monotonic()
        pg.stop("fast")  # "terminating connection due to administrator command", then connection refused
        time.sleep(1.0)
        zh_status, zh_body, _ = server.request("GET", "/agent/shifts", credentials[0], lang="zh")
        time.sleep(1.0)
        pg.start()
        up_at = time.monotonic()
        time.sleep(4.0)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        ready = server.request("GET", "/readyz")

        statuses = {}
        for _, what, status, _ in log:
            statuses[(what, status)] = statuses.get((what, status), 0) + 1
        expected = {("board", 200), ("board", 503), ("claim", 302), ("claim", 409), ("claim", 503)}
        assert set(statuses) <= expected, statuses  # never a 500, a dropped connection (-1) or a timeout
        unavailable = [body for _, _, status, body in log if status == 503]
        assert unavailable, f"no request met the outage: {statuses}"
        assert all("The site is busy. Try again." in body and "Traceback" not in body for body in unavailable)
        assert zh_status == 503 and busy_zh in zh_body and busy_zh != "The site is busy. Try again."
        assert all(t < up_at + 3.0 for t, _, status, _ in log if status == 503), "still failing 3 s after restart"
        late = [(what, status) for t, what, status, _ in log if t > up_at + 3.0]
        assert late and all(status != 503 for _, status in late), late
        assert any(t < down_at and status in (200, 302, 409) for t, _, status, _ in log)
        assert ready[0] == 200, ready
        back = min((t for t, _, status, _ in log if t > up_at and status != 503), default=None)
        print(f"answers: {statuses}; first success {back - up_at:.2f} s after pg_ctl start returned")
        checker = create_engine(driver_url(pg.url), poolclass=NullPool)
        with checker.connect() as conn:
            mismatched = conn.execute(text(
                "SELECT count(*) FROM shifts s WHERE s.seats_taken <> (SELECT count(*) FROM claims c"
                " WHERE c.shift_id = s.id AND c.is_active) OR s.seats_taken > s.seats")).scalar_one()
        checker.dispose()
        assert mismatched == 0
    finally:
        if server is not None:
            server.stop()
        if app is not None:
            with app.app_context():
                db.engine.dispose()
        pg.remove()
        gc.collect()


def test_an_unreachable_database_is_told_apart_from_a_bug():
    """The error handler's 503 ("busy, try again") versus 500: connection trouble is 503, a broken query is not,
    and only races (serialization, deadlock, SQLite's lock) make a unit of work worth running again."""
    import psycopg
    from sqlalchemy.exc import OperationalError, ProgrammingError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from app.core.db import is_retryable, is_unavailable

    def wrapped(orig):
        return OperationalError("SELECT 1", {}, orig)

    gone = [
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.CannotConnectNow("the database system is starting up"),
        psycopg.OperationalError('connection failed: connection to server at "127.0.0.1", port 5432 failed: '
                                 "Connection refused"),
        psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"),
        psycopg.errors.TooManyConnections("sorry, too many clients already"),
    ]
    for orig in gone:
        assert is_unavailable(wrapped(orig)), orig
        assert not is_retryable(wrapped(orig)), orig
    assert is_unavailable(PoolTimeout("QueuePool limit of size 5 overflow 5 reached"))
    assert not is_unavailable(ProgrammingError("SELECT nope", {}, psycopg.errors.UndefinedTable("no such table")))
    assert not is_unavailable(ValueError("a bug"))
    assert is_retryable(wrapped(psycopg.errors.SerializationFailure("could not serialize access")))
