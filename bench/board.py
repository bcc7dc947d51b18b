"""The shift board at size: page time and SQL statements per page, at two data sizes.

    python -m bench board [--small | --tiny]

Builds the schema by the migrations on the bench database (a SQLite temp file by default,
BENCH_DATABASE_URL for PostgreSQL) and creates, set-based (INSERT … SELECT over a number series),
10,000 campaigns with 100,000 shifts and 60,000 agents (--small: 1,000 / 10,000 / 6,000; --tiny:
50 / 300 / 100) with varied statuses, kinds, industries, required tags, tiers, tag grants (some
expired or revoked), past and cancelled shifts, and claims. For random agents it renders the real
board page (GET /agent/shifts, with kind / industry / day filters, ?show=all and the second page
through the cursor) with the Flask test client and a logged-in session, timing each page and
counting its SQL statements. It does that at the given size and at one tenth of it and checks that
the statements per page are the same at both ("statements_constant"). On PostgreSQL it also reports
the plan of the board query (EXPLAIN): its top nodes and whether it walks ix_shifts_open_starts_at.
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import shutil
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import logger

SIZES = {
    "full": {"campaigns": 10_000, "shifts": 100_000, "agents": 60_000, "sample_agents": 40},
    "small": {"campaigns": 1_000, "shifts": 10_000, "agents": 6_000, "sample_agents": 30},
    "tiny": {"campaigns": 50, "shifts": 300, "agents": 100, "sample_agents": 8},
}
BOARD_INDEX = "ix_shifts_open_starts_at"
INDUSTRIES = ["industry.ecommerce", "industry.food_delivery", "industry.finance", "industry.telecom",
              "industry.utilities", "industry.travel"]
KINDS = ["inbound", "outbound_callback", "outbound_marketing"]


log = logger("board")


# --- set-based data ------------------------------------------------------------------------------

class Sql:
    """The few dialect differences of the seed statements: a number series and timestamps."""

    def __init__(self, dialect: str, base: datetime):
        self.dialect, self.base = dialect, base

    def series(self, n_param: str) -> tuple[str, str]:
        """(prefix, from-item) giving rows g(n) = 1..:n_param."""
        if self.dialect == "postgresql":
            return "", f"generate_series(1, :{n_param}) AS g(n)"
        return f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :{n_param}) ", "g"

    def at(self, minutes_sql: str) -> str:
        """The base time plus an integer SQL expression of minutes, as the column stores it."""
        if self.dialect == "postgresql":
            return f"(CAST(:base AS timestamptz) + ({minutes_sql}) * interval '1 minute')"
        return f"(strftime('%Y-%m-%d %H:%M:%S', :base, printf('%+d minutes', {minutes_sql})) || '.000000')"

    def value(self, moment: datetime):
        """A bind value for a UTC timestamp column (SQLite stores naive UTC text)."""
        if self.dialect == "postgresql":
            return moment
        return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    def day(self, moment: datetime):
        return moment.date() if self.dialect == "postgresql" else moment.date().isoformat()


def empty_tables(engine) -> None:
    from sqlalchemy import text

    from app.core.db import db

    keep = {"tags", "alembic_version"}
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in keep]
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


def seed(engine, *, campaigns: int, shifts: int, agents: int, now: datetime) -> dict:
    """Everything with INSERT … SELECT: no row is built in Python."""
    from sqlalchemy import text
    from werkzeug.security import generate_password_hash

    sql = Sql(engine.dialect.name, now)
    base = sql.value(now.replace(second=0, microsecond=0))
    password_hash = generate_password_hash("bench-no-login", method="pbkdf2:sha256:1000")  # nobody logs in
    orgs = max(1, campaigns // 20)
    per_campaign = max(1, shifts // campaigns)
    p = {"base": base, "h": password_hash, "today": sql.day(now), "until": sql.day(now + timedelta(days=40))}
    with engine.begin() as conn:
        pre, g = sql.series("n")
        conn.execute(text(
            f"{pre}INSERT INTO organisations (name, industry, created_at)"
            f" SELECT 'Org ' || n, NULL, :base FROM {g}"), {**p, "n": orgs})
        first_org = conn.execute(text("SELECT min(id) FROM organisations")).scalar_one()
        conn.execute(text(
            f"{pre}INSERT INTO users (email, password_hash, name, role, status, tier, organisation_id, created_at,"
            f" session_version, failed_logins) SELECT 'client' || n || '@bench.local', :h, 'Client ' || n, 'client',"
            f" 'active', 0, :o + n - 1, :base, 1, 0 FROM {g}"), {**p, "n": orgs, "o": first_org})
        first_client = conn.execute(text("SELECT min(id) FROM users WHERE role = 'client'")).scalar_one()
        # Agents: 5 % pending, 5 % suspended; tiers trainee 20 %, certified 50 %, senior 20 %, gold 10 %.
        conn.execute(text(
            f"{pre}INSERT INTO users (email, password_hash, name, role, status, tier, city, languages, locale,"
            f" created_at, verified_at, session_version, failed_logins)"
            f" SELECT 'agent' || n || '@bench.local', :h, 'Agent ' || n, 'agent',"
            f" CASE n % 20 WHEN 0 THEN 'pending' WHEN 1 THEN 'suspended' ELSE 'active' END,"
            f" CASE WHEN n % 10 < 2 THEN 0 WHEN n % 10 < 7 THEN 1 WHEN n % 10 < 9 THEN 2 ELSE 3 END,"
            f" 'Shanghai', 'lang.mandarin', 'en', :base, :base, 1, 0 FROM {g}"), {**p, "n": agents})
        # Each agent holds about 40 % of the 16 tags; a few grants expired, a few revoked.
        conn.execute(text(
            "INSERT INTO agent_tags (agent_id, tag_id, source, level, granted_at, expires_at, revoked_at)"
            f" SELECT u.id, t.id, 'admin', 1, :base,"
            f" CASE WHEN (u.id + t.id) % 29 = 0 THEN {sql.at('-60')} ELSE NULL END,"
            f" CASE WHEN (u.id * 3 + t.id) % 31 = 0 THEN {sql.at('-120')} ELSE NULL END"
            " FROM users u CROSS JOIN tags t WHERE u.role = 'agent' AND (u.id * 7 + t.id * 13) % 5 < 2"), p)
        # Campaigns: 5 % draft, 5 % completed, 5 % cancelled, 10 % running, the rest published.
        industry_case = " ".join(f"WHEN {i} THEN '{code}'" for i, code in enumerate(INDUSTRIES))
        kind_case = " ".join(f"WHEN {i} THEN '{kind}'" for i, kind in enumerate(KINDS))
        conn.execute(text(
            f"{pre}INSERT INTO campaigns (organisation_id, name, kind, industry, description, script, min_tier,"
            " rate_fen_per_hour, bonus_fen_per_contact, budget_fen, starts_on, ends_on, status, created_by_id,"
            " created_at, published_at)"
            f" SELECT :o + n % :orgs, 'Campaign ' || n, CASE n % 3 {kind_case} END,"
            f" CASE (n / 3) % 6 {industry_case} END, '', '',"
            " CASE WHEN n % 10 < 2 THEN 0 WHEN n % 10 < 8 THEN 1 ELSE 2 END,"
            " 2000 + (n * 37) % 3000, (n % 4) * 100, 100000000, :today, :until,"
            " CASE n % 20 WHEN 0 THEN 'draft' WHEN 1 THEN 'completed' WHEN 2 THEN 'cancelled'"
            " WHEN 3 THEN 'running' WHEN 4 THEN 'running' ELSE 'published' END,"
            f" :c + n % :orgs, :base, CASE WHEN n % 20 = 0 THEN NULL ELSE :base END FROM {g}"),
            {**p, "n": campaigns, "o": first_org, "c": first_client, "orgs": orgs})
        first_campaign = conn.execute(text("SELECT min(id) FROM campaigns")).scalar_one()
        # Required tags: the industry tag for half of them, a skill tag for about half.
        conn.execute(text(
            "INSERT INTO campaign_tags (campaign_id, tag_id) SELECT c.id, t.id FROM campaigns c JOIN tags t"
            " ON (t.code = c.industry AND c.id % 2 = 0) OR (t.kind = 'skill' AND (c.id * 5 + t.id) % 11 = 0)"))
        # Shifts: `per_campaign` a campaign, spread over 30 days, 1-4 hours long; 4 % of the campaigns'
        # shifts lie in the past, 1 in 23 is cancelled.
        start = ("(60 + ((c * 37) % 1440) * 30 + k * 150 - CASE WHEN c % 25 = 0 THEN 3000 ELSE 0 END)")
        end = f"({start} + 60 * (1 + (c + k) % 4))"
        conn.execute(text(
            f"{pre}INSERT INTO shifts (campaign_id, starts_at, ends_at, seats, seats_taken, status, created_at)"
            f" SELECT :fc + c, {sql.at(start)}, {sql.at(end)}, 1 + (c * 3 + k) % 12, 0,"
            f" CASE WHEN (c + k * 7) % 23 = 0 THEN 'cancelled' ELSE 'open' END, :base"
            f" FROM (SELECT (n - 1) / :per AS c, (n - 1) % :per AS k FROM {g}) AS s"),
            {**p, "n": campaigns * per_campaign, "per": per_campaign, "fc": first_campaign})
        first_shift = conn.execute(text("SELECT min(id) FROM shifts")).scalar_one()
        n_shifts = conn.execute(text("SELECT count(*) FROM shifts")).scalar_one()
        # Claims: a third of the active agents hold one seat (never more than the shift has).
        conn.execute(text(
            "INSERT INTO claims (shift_id, agent_id, campaign_id, starts_at, ends_at, status, is_active,"
            " via_waitlist, claimed_at, left_early)"
            " SELECT id, agent_id, campaign_id, starts_at, ends_at, 'claimed', TRUE, FALSE, :now, FALSE FROM ("
            "  SELECT s.id, s.campaign_id, s.starts_at, s.ends_at, s.seats, x.agent_id,"
            "   ROW_NUMBER() OVER (PARTITION BY s.id ORDER BY x.agent_id) AS rn"
            "  FROM (SELECT u.id AS agent_id, :fs + (u.id * 7919) % :ns AS shift_id FROM users u"
            "        WHERE u.role = 'agent' AND u.status = 'active' AND u.id % 3 = 0) AS x"
            "  JOIN shifts s ON s.id = x.shift_id WHERE s.status = 'open' AND s.starts_at > :now) AS picked"
            " WHERE rn <= seats"), {"now": sql.value(now), "fs": first_shift, "ns": n_shifts})
        conn.execute(text(
            "UPDATE shifts SET seats_taken = (SELECT count(*) FROM claims c WHERE c.shift_id = shifts.id"
            " AND c.is_active) WHERE id IN (SELECT shift_id FROM claims)"))
        counts = {name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                  for name in ("campaigns", "shifts", "users", "agent_tags", "campaign_tags", "claims")}
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))  # what autovacuum does after a load
    return counts


# --- pages ---------------------------------------------------------------------------------------

NEXT_LINK = re.compile(r'href="([^"]*after=[^"]*)"')
SHIFT_LINK = re.compile(r'href="/agent/shifts/(\d+)"')


class StatementCounter:
    def __init__(self):
        self.count = 0
        self.statements: list[tuple[str, object]] = []
        self.keep = False

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.keep:
            self.statements.append((statement, parameters))


def board_paths(agent_kind: str, industry: str, day: str) -> list[tuple[str, str]]:
    return [
        ("board", "/agent/shifts"),
        ("kind", f"/agent/shifts?kind={agent_kind}"),
        ("industry", f"/agent/shifts?industry={industry}"),
        ("day", f"/agent/shifts?day={day}"),
        ("show_all", "/agent/shifts?show=all"),
    ]


def measure_pages(app, counter: StatementCounter, agents: list[tuple[int, int]], rng: random.Random,
                  now: datetime) -> dict:
    """Render each board variant (and the next page) for each agent; time and count statements."""
    from app.core.timefmt import local_today

    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    day = (local_today(now) + timedelta(days=1)).isoformat()
    times: dict[str, list[float]] = defaultdict(list)
    statements: dict[str, Counter] = defaultdict(Counter)  # "full" / "empty" pages -> Counter(statements)
    by_variant: dict[str, Counter] = defaultdict(Counter)
    failures: list[str] = []
    pages: list[tuple[float, str, str, int, int]] = []  # (seconds, path, agent, rows, statements)
    who, active = "", True

    def get(variant: str, path: str) -> str:
        counter.count = 0
        start = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - start
        body = response.get_data(as_text=True)
        if response.status_code != 200:
            failures.append(f"{path}: {response.status_code}")
            return ""
        rows = len(SHIFT_LINK.findall(body))
        times[variant].append(elapsed)
        pages.append((elapsed, path, who, rows, counter.count))
        kind = "rows" if rows else "empty" if active or variant == "show_all" else "empty_agent_not_active"
        statements[kind][counter.count] += 1
        by_variant[variant][counter.count] += 1
        return body

    for agent_id, version, status, tier in agents:
        who, active = f"{agent_id} ({status}, tier {tier})", status == "active"
        with client.session_transaction() as sess:
            sess.clear()
            sess["_user_id"] = f"{agent_id}:{version}"
            sess["_fresh"] = True
        next_link = None
        for variant, path in board_paths(rng.choice(KINDS), rng.choice(INDUSTRIES), day):
            body = get(variant, path)
            found = NEXT_LINK.search(body)
            if found and next_link is None:
                next_link = html.unescape(found.group(1))
        if next_link:
            get("next_page", next_link)
    slowest = [{"ms": round(t * 1000, 1), "path": p, "agent": a, "rows": r, "statements": n}
               for t, p, a, r, n in sorted(pages, reverse=True)[:5]]
    return {"times": times, "statements": statements, "by_variant": by_variant, "failures": failures,
            "slowest": slowest}


def explain_board(app, counter: StatementCounter, agent: tuple[int, int]) -> dict:
    """The plan of the board query as the page runs it (PostgreSQL: EXPLAIN ANALYZE; SQLite: QUERY PLAN)."""
    from app.core.db import db

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{agent[0]}:{agent[1]}"
        sess["_fresh"] = True
    counter.statements, counter.keep = [], True
    try:
        client.get("/agent/shifts")
    finally:
        counter.keep = False
    board = next((s for s in counter.statements if "FROM shifts JOIN campaigns" in s[0]
                  and "ORDER BY shifts.starts_at" in s[0]), None)
    if board is None:
        return {"error": "board query not seen"}
    statement, parameters = board
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if db.engine.dialect.name == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                plan = cursor.fetchone()[0][0]
                nodes, indexes = [], set()

                def walk(node, depth):
                    nodes.append((depth, node["Node Type"], node.get("Index Name")))
                    if node.get("Index Name"):
                        indexes.add(node["Index Name"])
                    for child in node.get("Plans", []):
                        walk(child, depth + 1)

                walk(plan["Plan"], 0)
                top = [f"{kind}{' on ' + index if index else ''}" for depth, kind, index in nodes if depth <= 2]
                return {"top_nodes": top, "indexes": sorted(indexes), "uses_partial_index": BOARD_INDEX in indexes,
                        "execution_ms": round(plan.get("Execution Time", 0.0), 3),
                        "planning_ms": round(plan.get("Planning Time", 0.0), 3)}
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            details = [row[-1] for row in cursor.fetchall()]
            return {"query_plan": details[:14], "uses_partial_index": any(BOARD_INDEX in d for d in details)}
        finally:
            raw.close()


def run_size(app, counter, engine, *, label: str, size: dict, sample: int, seed_value: int) -> dict:
    from sqlalchemy import text

    from bench.common import summary_ms

    now = datetime.now(UTC)
    empty_tables(engine)
    started = time.perf_counter()
    counts = seed(engine, campaigns=size["campaigns"], shifts=size["shifts"], agents=size["agents"], now=now)
    seed_s = round(time.perf_counter() - started, 2)
    log(f"{label}: seeded {counts} in {seed_s}s")
    with engine.connect() as conn:
        candidates = conn.execute(text(
            "SELECT id, session_version, status, tier FROM users WHERE role = 'agent'"
            " AND status IN ('active', 'pending')"
            " ORDER BY id")).all()
    rng = random.Random(seed_value)
    picked = rng.sample(candidates, min(sample, len(candidates)))
    agents = [tuple(row) for row in picked]
    # EXPLAIN is run for an active agent (a pending one can take nothing, which the planner may see).
    explain_agent = next((r for r in agents if r[2] == "active"), agents[0])
    measure_pages(app, counter, agents[:2], rng, now)  # warm-up: template compiles, statement caches
    started = time.perf_counter()
    result = measure_pages(app, counter, agents, rng, now)
    all_times = [t for values in result["times"].values() for t in values]
    log(f"{label}: {len(all_times)} pages in {time.perf_counter() - started:.1f}s")
    figures = {
        "campaigns": counts["campaigns"], "shifts": counts["shifts"], "agents": size["agents"],
        "agent_tags": counts["agent_tags"], "claims": counts["claims"], "seed_s": seed_s,
        "pages": len(all_times), "agents_sampled": len(agents), **summary_ms(all_times),
        "p50_ms_by_variant": {v: summary_ms(t)["p50_ms"] for v, t in result["times"].items()},
        "p99_ms_by_variant": {v: summary_ms(t)["p99_ms"] for v, t in result["times"].items()},
        "statements_per_page": {kind: dict(sorted(c.items())) for kind, c in result["statements"].items()},
        "statements_by_variant": {v: dict(sorted(c.items())) for v, c in result["by_variant"].items()},
        "failures": result["failures"], "slowest_pages": result["slowest"],
    }
    return figures, explain_agent


def main(argv: list[str]) -> dict:
    from sqlalchemy import event

    from app.core.db import db
    from bench.common import database_url, make_app

    size_name = "tiny" if "--tiny" in argv else "small" if "--small" in argv else "full"
    size = SIZES[size_name]
    tenth = {k: max(1, v // 10) for k, v in size.items() if k != "sample_agents"}
    url = database_url()
    postgres = not url.startswith("sqlite")
    if postgres:
        from bench.common import driver_url, ensure_database

        ensure_database(url)
        url = driver_url(url)
    figures: dict = {"size": size_name, "database": "postgresql" if postgres else "sqlite",
                     "machine_cores": os.cpu_count(), "page_size": None,
                     # The machine is shared: page times depend on what else runs (statement counts do not).
                     "load_average_at_start": round(os.getloadavg()[0], 2)}
    app = None
    try:
        log(f"building the schema by the migrations on {url}")
        app = make_app(url)
        figures["page_size"] = app.config["BOARD_PAGE_SIZE"]
        counter = StatementCounter()
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        tenth_figures, explain_agent = run_size(app, counter, engine, label="tenth", size=tenth,
                                         sample=size["sample_agents"], seed_value=7)
        tenth_figures["explain"] = explain_board(app, counter, explain_agent)
        full_figures, explain_agent = run_size(app, counter, engine, label="given", size=size,
                                        sample=size["sample_agents"], seed_value=7)
        full_figures["explain"] = explain_board(app, counter, explain_agent)
        figures["sizes"] = {"given": full_figures, "tenth": tenth_figures}
        # One statement count for every page with rows at both sizes; likewise for empty pages, and for the
        # pages of an agent who cannot take anything (no board query at all).
        constant = True
        per_kind = {}
        for kind in ("rows", "empty", "empty_agent_not_active"):
            seen = set(full_figures["statements_per_page"].get(kind, {})) | set(
                tenth_figures["statements_per_page"].get(kind, {}))
            per_kind[kind] = sorted(seen)
            constant = constant and len(seen) <= 1
        constant = constant and bool(full_figures["statements_per_page"].get("rows")) and bool(
            tenth_figures["statements_per_page"].get("rows"))
        figures["statements_per_page"] = {k: (v[0] if len(v) == 1 else v) for k, v in per_kind.items() if v}
        figures["statements_constant"] = constant
        figures["p50_ms"] = full_figures["p50_ms"]
        figures["p99_ms"] = full_figures["p99_ms"]
        figures["explain"] = full_figures["explain"]  # the plan at the given size (the tenth's is under "sizes")
        failures = full_figures["failures"] + tenth_figures["failures"]
        figures["ok"] = constant and not failures
        log(json.dumps({k: v for k, v in figures.items() if k != "sizes"}, default=str))
        return figures
    finally:
        if app is not None:
            with app.app_context():
                db.engine.dispose()
        if postgres:
            from bench.common import reset_postgres

            reset_postgres(url)
        elif url.startswith("sqlite:///") and Path(url[len("sqlite:///"):]).parent.name.startswith("surgeline-bench-"):
            shutil.rmtree(Path(url[len("sqlite:///"):]).parent, ignore_errors=True)  # the temp dir database_url made
