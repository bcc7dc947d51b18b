"""Settling completed claims: 100,000 (--small: 5,000) through the real settlement service, against the bare SQL floor.

    python -m bench settle [--small]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/surgeline_bench python -m bench settle --small

SQLite in a temp dir unless BENCH_DATABASE_URL names PostgreSQL (created when missing; its public schema
is rebuilt by the migrations, so never point it at a database you care about).

Setup, set-based: one client and one funded campaign (top-up and publish through the real services),
100 two-hour shifts, N/100 agents inserted in one executemany, then every agent × every shift as a
completed claim in one INSERT … SELECT (worked minutes vary from 91 to 120 so rounding is exercised).

Phases, on the same database:
* settle — `settle_due_claims` (the job's body) in batches of SETTLE_BATCH_SIZE claims, one transaction
  per batch: claim guard, balance locks, settlement rows, journal transactions and entries, balances;
* floor  — the same three entries per claim written by a single INSERT … SELECT into a bare table with no
  index, key or balance: the cost of the database alone.

Checked afterwards: every claim settled exactly once, pay and commission equal the pay rule recomputed
in SQL, the floor's legs sum to the ledger's, and app.ledger.queries.check_invariants finds nothing.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.common import ensure_database, logger

SIZES = {"full": 100_000, "small": 5_000}
SHIFTS = 100
RATE_FEN = 3800
BONUS_FEN = 50


log = logger("settle")


def make_data(session, *, agents: int, now: datetime) -> tuple[int, int]:
    """A funded campaign with SHIFTS shifts and agents × shifts completed claims. Returns (campaign id, claims)."""
    from sqlalchemy import String, func, insert, literal, select, true

    from app.campaigns import services as campaigns
    from app.campaigns.models import Shift
    from app.claims.models import Claim
    from app.core.db import UTCDateTime
    from app.ledger import services as ledger
    from app.ledger.payments import SimulatedProvider
    from app.members import services as members
    from app.members.models import User

    owner = members.register_client(session, members.ClientSignup(
        organisation="压测企业", industry="industry.ecommerce", name="压测", email="bench@bench.local",
        phone="13800000000", password="bench-password-1"), now=now)
    first = now + timedelta(days=1)
    campaign = campaigns.create_campaign(session, user=owner, now=now, today=now.date(), data=campaigns.CampaignInput(
        name="settle bench", kind="inbound", industry="industry.ecommerce", description="", script="",
        required_tags=(), min_tier=0, rate_fen_per_hour=RATE_FEN, bonus_fen_per_contact=BONUS_FEN,
        budget_fen=agents * SHIFTS * 9_000, starts_on=now.date(), ends_on=(first + timedelta(days=20)).date()))
    session.execute(insert(Shift), [
        {"campaign_id": campaign.id, "starts_at": first + timedelta(hours=3 * i),
         "ends_at": first + timedelta(hours=3 * i + 2), "seats": agents, "seats_taken": agents, "status": "open",
         "created_at": now} for i in range(SHIFTS)])
    payment = SimulatedProvider().charge(organisation_id=owner.organisation_id, amount_fen=campaign.budget_fen,
                                         reference=uuid.uuid4().hex)
    ledger.top_up(session, organisation_id=owner.organisation_id, payment=payment, now=now)
    ledger.publish_and_fund(session, campaign, now)
    session.execute(insert(User), [
        {"email": f"bench{i}@bench.local", "password_hash": "!", "name": f"坐席{i}", "role": "agent",
         "status": "active", "tier": 1, "created_at": now, "session_version": 1, "failed_logins": 0}
        for i in range(agents)])
    s, u = Shift.__table__, User.__table__
    worked = 120 - (u.c.id + s.c.id) % 30
    session.execute(insert(Claim).from_select(
        ["shift_id", "agent_id", "campaign_id", "starts_at", "ends_at", "status", "is_active", "via_waitlist",
         "claimed_at", "ended_at", "checked_in_at", "checked_out_at", "worked_minutes", "left_early"],
        select(s.c.id, u.c.id, s.c.campaign_id, s.c.starts_at, s.c.ends_at, literal("completed", String),
               true(), literal(False), literal(now, UTCDateTime), s.c.ends_at, s.c.starts_at, s.c.ends_at,
               worked, worked < 120)
        .select_from(s.join(u, u.c.role == "agent")).where(s.c.campaign_id == campaign.id, true()),
    ))
    claims = session.scalar(select(func.count(Claim.id)).where(Claim.campaign_id == campaign.id))
    return campaign.id, claims


def floor(engine, campaign_id: int, commission_bps: int) -> tuple[float, int, dict[str, int]]:
    """The same postings as one INSERT … SELECT into a bare table: (seconds, rows, sum per account kind)."""
    from sqlalchemy import text

    pay = f"((c.worked_minutes * CAST({RATE_FEN} AS BIGINT) + 30) / 60)"
    commission = f"(({pay} * {commission_bps} + 5000) / 10000)"
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_floor_entries"))
        conn.execute(text("CREATE TABLE bench_floor_entries (tx_key VARCHAR(120) NOT NULL, "
                          "account VARCHAR(80) NOT NULL, amount_fen BIGINT NOT NULL)"))
    started = time.perf_counter()
    with engine.begin() as conn:
        rows = conn.execute(text(
            "INSERT INTO bench_floor_entries (tx_key, account, amount_fen) "
            f"SELECT 'settle:' || CAST(c.id AS VARCHAR), 'campaign_escrow:' || CAST(c.campaign_id AS VARCHAR), "
            f"-({pay} + {commission}) FROM claims c WHERE c.campaign_id = :c "
            f"UNION ALL SELECT 'settle:' || CAST(c.id AS VARCHAR), 'agent_earnings:' || CAST(c.agent_id AS VARCHAR), "
            f"{pay} FROM claims c WHERE c.campaign_id = :c "
            f"UNION ALL SELECT 'settle:' || CAST(c.id AS VARCHAR), 'platform_revenue', {commission} "
            f"FROM claims c WHERE c.campaign_id = :c"), {"c": campaign_id}).rowcount
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        sums = dict(conn.execute(text(
            "SELECT CASE WHEN account LIKE 'agent_earnings:%' THEN 'agent_earnings' "
            "WHEN account LIKE 'campaign_escrow:%' THEN 'campaign_escrow' ELSE account END AS kind, "
            "SUM(amount_fen) FROM bench_floor_entries GROUP BY 1")).all())
        conn.execute(text("DROP TABLE bench_floor_entries"))
    return seconds, rows, {k: int(v) for k, v in sums.items()}


def main(argv: list[str]) -> dict:
    from sqlalchemy import event, func, select

    from bench.common import database_url, make_app

    size = "small" if "--small" in argv else "full"
    claims_wanted = SIZES[size]
    agents = claims_wanted // SHIFTS
    url = os.environ.get("BENCH_DATABASE_URL") or database_url()
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    if backend == "postgresql":
        ensure_database(url)
    log(f"building the scratch database ({backend})")
    app = make_app(url)
    figures: dict = {"size": size, "database": backend, "machine_cores": os.cpu_count(),
                     "batch_size": app.config["SETTLE_BATCH_SIZE"],
                     "commission_bps": app.config["PLATFORM_COMMISSION_BPS"]}
    with app.app_context():
        from app.claims.models import Claim, ClaimStatus
        from app.core.db import db
        from app.ledger import accounts
        from app.ledger.journal import balance_of
        from app.ledger.models import LedgerEntry, LedgerTransaction, Settlement, TransactionKind
        from app.ledger.queries import check_invariants
        from app.ledger.settlement import settle_due_claims

        session = db.session
        now = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
        started = time.perf_counter()
        campaign_id, claims = make_data(session, agents=agents, now=now)
        session.commit()
        figures["setup_s"] = round(time.perf_counter() - started, 2)
        figures.update(claims=claims, agents=agents, shifts=SHIFTS)
        log(f"{claims:,} completed claims ready in {figures['setup_s']}s; settling")

        statements = []

        def count_statement(*args):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count_statement)
        settle_at = now + timedelta(days=30)
        batch, batches, settled, in_batches = app.config["SETTLE_BATCH_SIZE"], 0, 0, 0
        started = time.perf_counter()
        while True:
            result = settle_due_claims(session, now=settle_at, commission_bps=figures["commission_bps"],
                                       dispute_window=timedelta(hours=app.config["DISPUTE_WINDOW_HOURS"]),
                                       limit=batch)
            session.commit()
            if not result.claims:
                break
            batches += 1
            settled += result.claims
            in_batches = len(statements)  # the last, empty probe is not a batch
        elapsed = time.perf_counter() - started
        event.remove(db.engine, "before_cursor_execute", count_statement)
        again = settle_due_claims(session, now=settle_at, commission_bps=figures["commission_bps"],
                                  dispute_window=timedelta(hours=48), limit=batch).claims
        session.commit()
        transactions = session.scalar(select(func.count(LedgerTransaction.id))
                                      .where(LedgerTransaction.kind == TransactionKind.SETTLE))
        entries = session.scalar(select(func.count(LedgerEntry.id)).join(
            LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(LedgerTransaction.kind == TransactionKind.SETTLE))
        figures.update({
            "batches": batches, "settle_s": round(elapsed, 2), "claims_per_s": round(settled / elapsed),
            "ledger_rows": transactions + entries + settled,
            "ledger_rows_per_s": round((transactions + entries + settled) / elapsed),
            "entries_per_s": round(entries / elapsed),
            # SQL statements sent per batch (an executemany of many rows counts once per round trip).
            "statements_per_batch": round(in_batches / max(batches, 1), 1),
            "second_run_settled": again,
        })
        log(f"settled {settled:,} in {elapsed:.1f}s ({figures['claims_per_s']:,}/s); checking")

        # Independent checks: the pay rule recomputed in SQL, one settlement per claim, the invariants.
        expected_pay = session.scalar(select(func.sum((Claim.worked_minutes * RATE_FEN + 30) // 60))
                                      .where(Claim.campaign_id == campaign_id))
        paid = session.execute(select(func.sum(Settlement.paid_pay_fen), func.sum(Settlement.paid_commission_fen),
                                      func.count(func.distinct(Settlement.claim_id)),
                                      func.sum(Settlement.shortfall_fen))).one()
        unsettled = session.scalar(select(func.count(Claim.id)).where(Claim.status != ClaimStatus.SETTLED))
        started = time.perf_counter()
        problems = check_invariants(session)
        figures["invariant_check_s"] = round(time.perf_counter() - started, 2)
        session.rollback()
        revenue = balance_of(session, accounts.PLATFORM_REVENUE)
        session.rollback()

        log("running the floor (one INSERT … SELECT)")
        floor_s, floor_rows, floor_sums = floor(db.engine, campaign_id, figures["commission_bps"])
        figures.update({"floor_s": round(floor_s, 3), "floor_rows": floor_rows,
                        "floor_rows_per_s": round(floor_rows / floor_s),
                        "overhead_x": round(elapsed / floor_s, 1)})
        checks = {
            "all_settled_once": settled == claims == transactions == paid[2] and unsettled == 0 and again == 0,
            "three_entries_each": entries == 3 * claims == floor_rows,
            "pay_rule": paid[0] == expected_pay == floor_sums.get("agent_earnings"),
            "commission": paid[1] == revenue == floor_sums.get("platform_revenue"),
            "no_shortfall": paid[3] == 0,
            "invariants": problems == [],
        }
        figures["checks"] = checks
        if problems:
            figures["problems"] = problems[:5]
        figures["ok"] = all(checks.values())
    return figures
