"""The claim storm: many agents grab seats on popular shifts at once, over real HTTP, on PostgreSQL.

    python -m bench claim_storm [--small]

Builds a scratch schema by the migrations on BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/surgeline_bench, created when missing), one published campaign
that needs a tag, 500 shifts × 4 seats whose neighbours overlap in time and 10,000 eligible agents
(--small: 100 shifts, 2,000 agents). Then three phases on the same data and the same request plan
(claims and seats reset between them):

* app  — the production topology: gunicorn with app.gunicorn_conf (WEB_CONCURRENCY=5), one
  `python worker.py`, one `python worker.py cron` (Redis: BENCH_REDIS_URL); 64 clients (--small 32)
  POST /agent/shifts/<id>/claim with signed session cookies and CSRF tokens;
* bare — bench/bare_claim_app.py (only the claim transaction, SQLAlchemy Core) under the same
  gunicorn settings and the same load generator;
* raw  — the same UPDATE … RETURNING + INSERT from 64 threads on psycopg connections, no web stack.

Each agent wants 3 shifts drawn with a skewed (Zipf) popularity; 2 % of agents double-tap one claim.
After each phase the database is checked: no shift over capacity, seats_taken = active claims, one
seat per agent per shift, no overlapping seats per agent, only eligible holders, one committed claim
per success answer; and every refused request must have been a 409 (anything else fails the run — a 429
from the per-agent claim rate limit too: each agent makes 3-4 requests, far under CLAIM_RATE_LIMIT).
"""

from __future__ import annotations

import http.client
import itertools
import json
import multiprocessing
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from bench.common import driver_url, ensure_database, logger, plain_url, reset_postgres

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/surgeline_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/4"
TAG = "skill.after_sales"
USER_AGENT = "surgeline-bench/claim-storm"
SIZES = {
    "full": {"shifts": 500, "seats": 4, "agents": 10_000, "clients": 64},
    "small": {"shifts": 100, "seats": 4, "agents": 2_000, "clients": 32},
}
WANTS_PER_AGENT = 3
ZIPF_S = 1.1
DOUBLE_TAP_SHARE = 0.02
CLIENT_TIMEOUT_S = 60


log = logger("claim_storm")
drop_bench_schema = reset_postgres


def seed(engine, *, shifts: int, seats: int, agents: int) -> dict:
    """Set-based: one campaign, `shifts` overlapping shifts, `agents` eligible agents with the tag."""
    from sqlalchemy import text
    from werkzeug.security import generate_password_hash

    password_hash = generate_password_hash(secrets.token_urlsafe(16))  # one hash for everyone: no logins here
    now = datetime.now(UTC).replace(microsecond=0)
    first_start = (now + timedelta(days=1)).replace(minute=0, second=0)
    with engine.begin() as conn:
        org = conn.execute(text(
            "INSERT INTO organisations (name, industry, created_at) VALUES ('Bench Shop', 'industry.ecommerce', :now)"
            " RETURNING id"), {"now": now}).scalar_one()
        client = conn.execute(text(
            "INSERT INTO users (email, password_hash, name, role, status, tier, organisation_id, created_at,"
            " session_version, failed_logins) VALUES ('client@bench.local', :h, 'Bench client', 'client', 'active',"
            " 0, :org, :now, 1, 0) RETURNING id"), {"h": password_hash, "org": org, "now": now}).scalar_one()
        campaign = conn.execute(text(
            "INSERT INTO campaigns (organisation_id, name, kind, industry, description, script, min_tier,"
            " rate_fen_per_hour, bonus_fen_per_contact, budget_fen, starts_on, ends_on, status, created_by_id,"
            " created_at, published_at) VALUES (:org, '双11 售后高峰 (bench)', 'inbound', 'industry.ecommerce', '',"
            " '', 1, 3000, 0, 100000000, :d0, :d1, 'published', :client, :now, :now) RETURNING id"),
            {"org": org, "client": client, "now": now, "d0": first_start.date(),
             "d1": first_start.date() + timedelta(days=shifts // 48 + 2)}).scalar_one()
        conn.execute(text("INSERT INTO campaign_tags (campaign_id, tag_id) SELECT :c, id FROM tags WHERE code = :t"),
                     {"c": campaign, "t": TAG})
        # Shift g starts 30 minutes after shift g-1 and lasts an hour: each overlaps its neighbours.
        conn.execute(text(
            "INSERT INTO shifts (campaign_id, starts_at, ends_at, seats, seats_taken, status, created_at)"
            " SELECT :c, :t0 + g * interval '30 minutes', :t0 + g * interval '30 minutes' + interval '1 hour',"
            " :seats, 0, 'open', :now FROM generate_series(0, :n - 1) AS g"),
            {"c": campaign, "t0": first_start, "seats": seats, "n": shifts, "now": now})
        conn.execute(text(
            "INSERT INTO users (email, password_hash, name, role, status, tier, city, languages, locale,"
            " created_at, verified_at, session_version, failed_logins)"
            " SELECT 'agent' || g || '@bench.local', :h, 'Agent ' || g, 'agent', 'active', 1, 'Shanghai',"
            " 'lang.mandarin', 'en', :now, :now, 1, 0 FROM generate_series(1, :n) AS g"),
            {"h": password_hash, "now": now, "n": agents})
        conn.execute(text(
            "INSERT INTO agent_tags (agent_id, tag_id, source, level, granted_at, granted_by_id, reason)"
            " SELECT u.id, t.id, 'admin', 1, :now, NULL, 'bench' FROM users u CROSS JOIN tags t"
            " WHERE u.role = 'agent' AND t.code = :t"), {"now": now, "t": TAG})
        agent_ids = list(conn.execute(text("SELECT id FROM users WHERE role = 'agent' ORDER BY id")).scalars())
        shift_ids = list(conn.execute(text("SELECT id FROM shifts ORDER BY starts_at, id")).scalars())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return {"campaign_id": campaign, "agent_ids": agent_ids, "shift_ids": shift_ids}


def reset_claims(engine) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM waitlist_entries"))
        conn.execute(text("DELETE FROM notifications"))
        conn.execute(text("DELETE FROM claims"))
        conn.execute(text("UPDATE shifts SET seats_taken = 0"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE claims"))
        conn.execute(text("VACUUM ANALYZE shifts"))


def verify(engine, *, successes: int) -> dict:
    """The marketplace rules, counted from the database."""
    from sqlalchemy import text

    checks = {
        "over_capacity": "SELECT count(*) FROM shifts WHERE seats_taken > seats OR seats_taken < 0",
        "seats_taken_mismatch": (
            "SELECT count(*) FROM shifts s LEFT JOIN (SELECT shift_id, count(*) AS n FROM claims WHERE is_active"
            " GROUP BY shift_id) c ON c.shift_id = s.id WHERE s.seats_taken <> coalesce(c.n, 0)"),
        "two_seats_one_shift": (
            "SELECT count(*) FROM (SELECT 1 FROM claims WHERE is_active GROUP BY shift_id, agent_id"
            " HAVING count(*) > 1) d"),
        "overlapping_seats": (
            "SELECT count(*) FROM claims a JOIN claims b ON a.agent_id = b.agent_id AND a.id < b.id"
            " WHERE a.is_active AND b.is_active AND a.starts_at < b.ends_at AND a.ends_at > b.starts_at"),
        "ineligible_holders": (
            "SELECT count(*) FROM claims c JOIN users u ON u.id = c.agent_id JOIN campaigns k ON k.id = c.campaign_id"
            " WHERE c.is_active AND (u.role <> 'agent' OR u.status <> 'active' OR u.tier < k.min_tier OR EXISTS ("
            " SELECT 1 FROM campaign_tags ct WHERE ct.campaign_id = k.id AND NOT EXISTS (SELECT 1 FROM agent_tags a"
            " WHERE a.agent_id = u.id AND a.tag_id = ct.tag_id AND a.revoked_at IS NULL"
            " AND (a.expires_at IS NULL OR a.expires_at > now()))))"),
    }
    with engine.connect() as conn:
        found = {name: conn.execute(text(sql)).scalar_one() for name, sql in checks.items()}
        active = conn.execute(text("SELECT count(*) FROM claims WHERE is_active")).scalar_one()
        full = conn.execute(text("SELECT count(*) FROM shifts WHERE seats_taken = seats")).scalar_one()
        taken = conn.execute(text("SELECT coalesce(sum(seats_taken), 0) FROM shifts")).scalar_one()
    found["claims_not_matching_success_answers"] = abs(active - successes)
    return {"violations": found, "active_claims": active, "seats_taken": int(taken), "full_shifts": full}


# --- the request plan and authenticated sessions ---------------------------------------------

def make_plan(agent_ids: list[int], shift_ids: list[int], *, seed_value: int = 11) -> tuple[list, dict]:
    """(agent index, shift id) requests: each agent wants 3 shifts, Zipf-popular; agents in random order,
    an agent's requests back to back (so the clients race an agent against itself), 2 % double taps."""
    rng = random.Random(seed_value)
    by_popularity = shift_ids[:]
    rng.shuffle(by_popularity)  # popularity is unrelated to time, so hot shifts sometimes overlap
    weights = [1 / (rank + 1) ** ZIPF_S for rank in range(len(by_popularity))]
    cumulative = list(itertools.accumulate(weights))
    plan, double_taps, hot = [], 0, Counter()
    order = list(range(len(agent_ids)))
    rng.shuffle(order)
    for idx in order:
        wanted: list[int] = []
        while len(wanted) < min(WANTS_PER_AGENT, len(shift_ids)):
            pick = rng.choices(by_popularity, cum_weights=cumulative)[0]
            if pick not in wanted:
                wanted.append(pick)
        for shift_id in wanted:
            plan.append((idx, shift_id))
            hot[shift_id] += 1
        if rng.random() < DOUBLE_TAP_SHARE:
            plan.append((idx, wanted[0]))
            double_taps += 1
    top = hot.most_common(1)[0][1] if hot else 0
    return plan, {"requests": len(plan), "double_taps": double_taps, "wanted_by_hottest_shift": top,
                  "shifts_wanted_by_nobody": len(shift_ids) - len(hot)}


def session_credentials(app, agent_ids: list[int]) -> tuple[list[str], list[str]]:
    """A signed session cookie per agent as if they had logged in, and the form's CSRF token."""
    from flask_login.utils import _create_identifier
    from itsdangerous import URLSafeTimedSerializer

    signer = app.session_interface.get_signing_serializer(app)
    csrf = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token")
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}):
        identifier = _create_identifier()  # Flask-Login's session-protection id for this address and browser
    cookies, tokens = [], []
    for agent_id in agent_ids:
        raw = secrets.token_hex(20)
        cookies.append(signer.dumps({"_user_id": f"{agent_id}:1", "_fresh": True, "_id": identifier,
                                     "csrf_token": raw}))
        tokens.append(csrf.dumps(raw))
    return cookies, tokens


# --- processes ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Topology:
    """Subprocesses in their own process groups, stopped (TERM, then KILL) whatever happens."""

    def __init__(self, env: dict, logdir: Path):
        self.env, self.logdir, self.procs = env, logdir, []

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        logfile = open(self.logdir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=logfile, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append((name, proc, logfile))
        return proc

    def check_alive(self) -> None:
        for name, proc, _ in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        for _, proc, _ in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 25
        for _, proc, logfile in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the group, if any
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            logfile.close()
        self.procs = []


def wait_ready(port: int, topology: Topology, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        topology.check_alive()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"no /readyz on port {port} after {timeout}s")


def proc_ticks(pid: int, children: bool = True) -> tuple[str, int, int] | None:
    """(comm, utime + stime [+ the same of its reaped children], process group) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # Children's time counts once they are reaped: a gunicorn worker recycled by max_requests (its master).
    own = int(fields[11]) + int(fields[12])
    return comm, own + (int(fields[13]) + int(fields[14]) if children else 0), int(fields[2])


def cpu_ticks(database: str, groups: set[int]) -> dict[int, tuple[str | None, int, int]]:
    """Per live process: (role, ticks, pgid). PostgreSQL backends are told apart by the database they serve.
    Reaped children count only for the bench's own process groups (`groups`): elsewhere a parent reaping a
    long-lived child would put that child's whole life into the phase."""
    result = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            pgid = os.getpgid(int(entry.name))
        except OSError:
            continue
        found = proc_ticks(int(entry.name), children=pgid in groups)
        if found is None:
            continue
        comm, ticks, pgid = found
        role = None
        if comm.startswith("postgres"):
            try:
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                cmdline = ""
            role = "postgres_bench_db" if f" {database} " in cmdline else "postgres_other"
        result[int(entry.name)] = (role, ticks, pgid)
    return result


def system_busy() -> tuple[int, int]:
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def cpu_report(before, after, busy_before, busy_after, *, groups: dict[str, set[int]], loadgen_cpu_s: float,
               wall_s: float, extra: dict | None = None) -> dict:
    """CPU seconds by role during a phase, from /proc: the web server's process group, the job workers', this
    bench (with its load generator), PostgreSQL backends of the bench database and of any other database
    (other users of the machine), and everything else. Rough: a process that exited unreaped is missed."""
    hz = os.sysconf("SC_CLK_TCK")
    spent: Counter = Counter()
    for pid, (role, ticks, pgid) in after.items():
        delta = ticks - before[pid][1] if pid in before else ticks
        if delta <= 0:
            continue
        role = next((name for name, pgids in groups.items() if pgid in pgids), None) or role or "other"
        spent[role] += delta
    busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]) * os.cpu_count()
    report = {f"{role}_cpu_s": round(ticks / hz, 2) for role, ticks in sorted(spent.items())}
    # Other users of the machine (their processes and their PostgreSQL backends), in cores.
    report["others_cores"] = round((spent["other"] + spent["postgres_other"]) / hz / max(wall_s, 1e-9), 2)
    for key, value in (extra or {}).items():
        report[key] = round(value, 2)
    report["loadgen_cpu_s"] = round(loadgen_cpu_s, 2)
    report["machine_busy_cores"] = round(busy, 2)
    report["wall_s"] = round(wall_s, 2)
    return report


# --- load generators (run in a spawned process) --------------------------------------------------

def http_load(port: int, plan: list, cookies: list[str], tokens: list[str], agent_ids: list[int],
              clients: int, path_template: str = "/agent/shifts/{}/claim") -> dict:
    """`clients` threads, each with its own keep-alive http.client connection, POST the plan's claims."""
    import resource

    results: list = [None] * len(plan)
    counter = itertools.count()
    barrier = threading.Barrier(clients + 1)
    errors: Counter = Counter()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_S)
        barrier.wait()
        while True:
            i = next(counter)
            if i >= len(plan):
                break
            idx, shift_id = plan[i]
            body = f"csrf_token={quote(tokens[idx])}&agent_id={agent_ids[idx]}"
            headers = {"Cookie": f"session={cookies[idx]}", "User-Agent": USER_AGENT,
                       "Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "en"}
            start = time.perf_counter()
            try:
                conn.request("POST", path_template.format(shift_id), body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    conn.close()  # gunicorn's sync workers close every connection; the next request reopens
            except Exception as exc:  # a timeout or a reset is a failure, not a crash of the bench
                errors[type(exc).__name__] += 1
                status = -1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_S)
            results[i] = (status, time.perf_counter() - start, time.perf_counter())
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    results = [r or (-2, 0.0, start) for r in results]  # -2: never sent (no connection)
    return {"results": [(s, lat, end - start) for s, lat, end in results], "wall_s": wall,
            "errors": dict(errors),
            "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)}


def raw_load(url: str, plan: list, agent_ids: list[int], clients: int) -> dict:
    """The same claim transaction straight on psycopg, one connection per thread."""
    import enum
    import resource

    import psycopg
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    from bench.bare_claim_app import claim_statements

    take_seat, insert_claim = claim_statements()
    dialect = PGDialect_psycopg()
    compiled_take = take_seat.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    compiled_insert = insert_claim.compile(dialect=dialect)

    def plain(params):
        return {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in params.items()}

    take_sql, take_params = str(compiled_take), plain(compiled_take.params)
    insert_sql, insert_params = str(compiled_insert), plain(compiled_insert.params)
    results: list = [None] * len(plan)
    counter = itertools.count()
    barrier = threading.Barrier(clients + 1)
    errors: Counter = Counter()

    def client() -> None:
        conn = None
        for attempt in range(30):  # PostgreSQL's max_connections is shared with whoever else uses the server
            try:
                conn = psycopg.connect(plain_url(url))
                break
            except psycopg.OperationalError as exc:
                if attempt == 29:
                    errors[f"connect: {type(exc).__name__}"] += 1
                time.sleep(1)
        barrier.wait()
        if conn is None:
            return
        found = proc_ticks(conn.info.backend_pid)
        backend_start[conn.info.backend_pid] = found[1] if found else 0
        while True:
            i = next(counter)
            if i >= len(plan):
                break
            idx, shift_id = plan[i]
            agent_id = agent_ids[idx]
            start = time.perf_counter()
            try:
                now = datetime.now(UTC)
                row = conn.execute(take_sql, {**take_params, "agent_id": agent_id, "shift_id": shift_id,
                                              "now": now}).fetchone()
                if row is None:
                    conn.rollback()
                    status = 409
                else:
                    conn.execute(insert_sql, {**insert_params, "agent_id": agent_id, "shift_id": shift_id,
                                              "now": now, "campaign_id": row[2], "starts_at": row[0],
                                              "ends_at": row[1]})
                    conn.commit()
                    status = 302
            except psycopg.errors.IntegrityError:
                conn.rollback()
                status = 409
            except Exception as exc:
                conn.rollback()
                errors[type(exc).__name__] += 1
                status = -1
            results[i] = (status, time.perf_counter() - start, time.perf_counter())
        found = proc_ticks(conn.info.backend_pid)  # the backend's CPU, read before it exits with the connection
        backend_ticks.append((found[1] - backend_start[conn.info.backend_pid]) if found else 0)
        conn.close()

    backend_ticks: list[int] = []
    backend_start: dict[int, int] = {}
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    results = [r or (-2, 0.0, start) for r in results]  # -2: never sent (no connection)
    return {"results": [(s, lat, end - start) for s, lat, end in results], "wall_s": wall,
            "errors": dict(errors), "backend_cpu_s": sum(backend_ticks) / os.sysconf("SC_CLK_TCK"),
            "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)}


def in_spawned_process(func, *args) -> dict:
    """Run a load generator in a fresh interpreter (spawn), so it shares no GIL with the bench."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(func, args)


def summarise(load: dict, *, success_status: int) -> dict:
    from bench.common import summary_ms

    results = load["results"]
    statuses = Counter(s for s, _, _ in results)
    successes = statuses.get(success_status, 0)
    refused = statuses.get(409, 0)
    failures = {str(s): n for s, n in statuses.items() if s not in (success_status, 409)}
    wall = load["wall_s"]
    last_claim = max((end for s, _, end in results if s == success_status), default=0.0)
    return {
        "requests": len(results), "claims": successes, "refused_409": refused,
        "failures": sum(failures.values()), "failure_statuses": failures, "client_errors": load["errors"],
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(results) / wall, 1) if wall else 0.0,
        "claims_per_s": round(successes / wall, 1) if wall else 0.0,
        "claims_per_s_until_last_claim": round(successes / last_claim, 1) if last_claim else 0.0,
        "last_claim_at_s": round(last_claim, 2),
        **summary_ms([lat for _, lat, _ in results]),
        "claim_p99_ms": summary_ms([lat for s, lat, _ in results if s == success_status])["p99_ms"],
        "refusal_p99_ms": summary_ms([lat for s, lat, _ in results if s == 409])["p99_ms"],
    }


def warm_up(port: int, shift_ids: list[int], cookies: list[str], paths: bool) -> None:
    """A few requests per worker so the first measured ones do not pay for imports and template compiles."""
    def one(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        path = f"/agent/shifts/{shift_ids[i % len(shift_ids)]}" if paths else "/readyz"
        conn.request("GET", path, headers={"Cookie": f"session={cookies[i % len(cookies)]}",
                                           "User-Agent": USER_AGENT, "Accept-Language": "en"})
        conn.getresponse().read()
        conn.close()

    threads = [threading.Thread(target=lambda k=k: [one(k * 10 + j) for j in range(10)]) for k in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# --- the bench -------------------------------------------------------------------------------------

def run_web_phase(name: str, *, env: dict, logdir: Path, app_spec: str, with_workers: bool, data: dict,
                  plan: list, cookies, tokens, clients: int, database: str) -> tuple[dict, dict]:
    port = free_port()
    phase_env = {**env, "PORT": str(port), "WEB_CONCURRENCY": "5"}
    topology = Topology(phase_env, logdir)
    try:
        log(f"{name}: starting gunicorn on 127.0.0.1:{port}" + (" + worker + cron" if with_workers else ""))
        gunicorn = topology.start(f"{name}-gunicorn", [sys.executable, "-m", "gunicorn", "-c",
                                                       "python:app.gunicorn_conf", app_spec])
        groups = {"web": {gunicorn.pid}, "bench": {os.getpgid(0)}}
        if with_workers:
            worker = topology.start(f"{name}-worker", [sys.executable, "worker.py"])
            cron = topology.start(f"{name}-cron", [sys.executable, "worker.py", "cron"])
            groups["jobs"] = {worker.pid, cron.pid}
        wait_ready(port, topology)
        warm_up(port, data["shift_ids"], cookies, paths=with_workers)
        log(f"{name}: {len(plan)} claims from {clients} clients")
        mine = {os.getpgid(0)} | set().union(*groups.values())
        before, busy0 = cpu_ticks(database, mine), system_busy()
        load = in_spawned_process(http_load, port, plan, cookies, tokens, data["agent_ids"], clients)
        after, busy1 = cpu_ticks(database, mine), system_busy()
        topology.check_alive()
        cpu = cpu_report(before, after, busy0, busy1, groups=groups, loadgen_cpu_s=load["cpu_s"],
                         wall_s=load["wall_s"])
        return load, cpu
    finally:
        topology.stop()


def main(argv: list[str]) -> dict:
    from sqlalchemy import create_engine

    from bench.common import make_app

    size_name = "small" if "--small" in argv else "full"
    size = SIZES[size_name]
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgresql", "postgres:")):
        raise SystemExit("claim_storm needs PostgreSQL (BENCH_DATABASE_URL=postgresql://...)")
    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS
    secret_key = secrets.token_urlsafe(32)
    env = {**os.environ, "SURGELINE_ENV": "production", "SECRET_KEY": secret_key, "DATABASE_URL": url,
           "REDIS_URL": redis_url, "CONTACT_ENCRYPTION_KEY": secrets.token_urlsafe(32), "PYTHONUNBUFFERED": "1"}
    env.pop("BIND", None)
    figures: dict = {"size": size_name, "machine_cores": os.cpu_count(), "database": "postgresql",
                     "load_average_at_start": round(os.getloadavg()[0], 2),
                     "shifts": size["shifts"], "seats_per_shift": size["seats"], "agents": size["agents"],
                     "clients": size["clients"], "web_workers": 5}
    logdir = Path(tempfile.mkdtemp(prefix="surgeline-claim-storm-"))
    from sqlalchemy.engine import make_url

    database = make_url(driver_url(url)).database
    ensure_database(url)
    engine = app = None
    try:
        log(f"building the schema by the migrations on {url}")
        app = make_app(driver_url(url), SECRET_KEY=secret_key)
        engine = create_engine(driver_url(url), pool_size=2)
        started = time.perf_counter()
        data = seed(engine, shifts=size["shifts"], seats=size["seats"], agents=size["agents"])
        figures["seed_s"] = round(time.perf_counter() - started, 2)
        plan, plan_facts = make_plan(data["agent_ids"], data["shift_ids"])
        figures["plan"] = plan_facts
        cookies, tokens = session_credentials(app, data["agent_ids"])
        log(f"seeded in {figures['seed_s']}s; plan: {plan_facts}")

        phases: dict = {}
        integrity: dict = {}
        # 1. raw: the database's own rate for the claim transaction, no web stack.
        raw_clients = 64
        log(f"raw: {len(plan)} claim transactions from {raw_clients} psycopg threads")
        before, busy0 = cpu_ticks(database, {os.getpgid(0)}), system_busy()
        load = in_spawned_process(raw_load, url, plan, data["agent_ids"], raw_clients)
        after, busy1 = cpu_ticks(database, {os.getpgid(0)}), system_busy()
        phases["raw"] = {**summarise(load, success_status=302), "clients": raw_clients,
                         "cpu": cpu_report(before, after, busy0, busy1, groups={"bench": {os.getpgid(0)}},
                                           loadgen_cpu_s=load["cpu_s"], wall_s=load["wall_s"],
                                           extra={"postgres_bench_db_cpu_s": load["backend_cpu_s"]})}
        integrity["raw"] = verify(engine, successes=phases["raw"]["claims"])
        reset_claims(engine)

        # 2. bare: only the claim transaction behind gunicorn.
        load, cpu = run_web_phase("bare", env=env, logdir=logdir, app_spec="bench.bare_claim_app:create_app()",
                                  with_workers=False, data=data, plan=plan, cookies=cookies, tokens=tokens,
                                  clients=size["clients"], database=database)
        phases["bare"] = {**summarise(load, success_status=302), "clients": size["clients"], "cpu": cpu}
        integrity["bare"] = verify(engine, successes=phases["bare"]["claims"])
        reset_claims(engine)

        # 3. app: the production topology.
        load, cpu = run_web_phase("app", env=env, logdir=logdir, app_spec="app:create_app()", with_workers=True,
                                  data=data, plan=plan, cookies=cookies, tokens=tokens, clients=size["clients"],
                                  database=database)
        phases["app"] = {**summarise(load, success_status=302), "clients": size["clients"], "cpu": cpu}
        integrity["app"] = verify(engine, successes=phases["app"]["claims"])

        for name in phases:
            phases[name]["integrity"] = integrity[name]
            cpu, requests = phases[name]["cpu"], max(1, phases[name]["requests"])
            phases[name]["cpu_ms_per_request"] = {
                role: round(cpu.get(f"{role}_cpu_s", 0.0) * 1000 / requests, 2)
                for role in ("web", "postgres_bench_db", "loadgen") if f"{role}_cpu_s" in cpu}
            log(f"{name}: {json.dumps({k: v for k, v in phases[name].items() if k != 'cpu'}, default=str)}")
        figures["phases"] = phases
        app_rps, bare_rps, raw_rps = (phases[n]["requests_per_s"] for n in ("app", "bare", "raw"))
        figures["app_claims_per_s"] = phases["app"]["claims_per_s"]
        figures["app_requests_per_s"] = app_rps
        figures["app_p50_ms"] = phases["app"]["p50_ms"]
        figures["app_p99_ms"] = phases["app"]["p99_ms"]
        figures["ratio_app_bare"] = round(app_rps / bare_rps, 3) if bare_rps else None
        figures["ratio_app_raw"] = round(app_rps / raw_rps, 3) if raw_rps else None
        violations = sum(sum(i["violations"].values()) for i in integrity.values())
        failures = sum(p["failures"] for p in phases.values())
        figures["integrity_violations"] = violations
        figures["non_409_refusals"] = failures
        figures["targets"] = {
            "app_at_least_half_of_bare": bool(figures["ratio_app_bare"] and figures["ratio_app_bare"] >= 0.5),
            "app_p99_under_250ms": figures["app_p99_ms"] < 250,
            "zero_integrity_violations": violations == 0,
        }
        figures["ok"] = violations == 0 and failures == 0
        figures["logs"] = str(logdir)
        return figures
    finally:
        if engine is not None:
            engine.dispose()
        if app is not None:
            from app.core.db import db

            with app.app_context():
                db.engine.dispose()
        log("dropping the bench schema")
        drop_bench_schema(url)
