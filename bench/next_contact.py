"""Handing out contacts: 500 agents (--small: 50) work one call list at once, 20 contacts each.

    python -m bench next_contact [--small]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/surgeline_bench python -m bench next_contact --small

SQLite in a temp dir unless BENCH_DATABASE_URL names PostgreSQL (created when missing). Seeding goes
through the real services: a published outbound campaign, one shift with a seat per agent, agents who
claim it and are checked in, and a call list imported by the importer.

Each agent is a thread with its own session; on SQLite every thread has its own connection, on PostgreSQL
they share a pool of 48 (max_connections is 100 on these machines). All start at a barrier. Phases:
* service — the console's path: `next_contact` (claim check, held check, due callbacks, then
  `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING`) and `record_outcome`,
  each one transaction through `commit_with_retry`, until the list is empty;
* floor — only the hand-out statement and the statement that marks the contact done, each in its own
  transaction, same threads and connections.
Every agent pauses TALK_S (1 ms) after each transaction in both phases, so pooled connections go round.
After each phase: every contact handed out exactly once, none twice (also per agent: no overlap).
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections import Counter
from datetime import timedelta

from bench.common import logger

SIZES = {"full": {"agents": 500, "per_agent": 20}, "small": {"agents": 50, "per_agent": 20}}
PG_POOL = 48
# Each agent pauses this long after each transaction (the call itself, compressed): without a pause, a thread
# that just returned its pooled connection takes it straight back and a few agents starve the rest.
TALK_S = 0.001


log = logger("next_contact")


def seed(session, *, agents: int, contacts: int, upload_dir: str) -> tuple[int, list[tuple[int, int]]]:
    """A checked-in crowd on an outbound campaign with a call list; returns (campaign_id, [(agent, claim)])."""
    from sqlalchemy import update

    from app.campaigns import services as campaigns
    from app.campaigns.models import Shift, ShiftStatus
    from app.claims import services as claims
    from app.claims.models import Claim
    from app.contacts import services
    from app.contacts.crypto import current_vault
    from app.core import clock
    from app.core.timefmt import local_today
    from app.members import services as members

    members.PASSWORD_METHOD = "pbkdf2:sha256:1000"
    now = clock.now()
    admin = members.create_admin(session, email="bench-admin@example.cn", name="管理员", password="bench password",
                                 now=now)
    owner = members.register_client(session, members.ClientSignup(
        organisation="基准测试", industry="industry.ecommerce", name="基准", email="bench-client@example.cn",
        phone="13900139000", password="bench password"), now=now)
    today = local_today(now)
    campaign = campaigns.create_campaign(session, user=owner, now=now, today=today, data=campaigns.CampaignInput(
        name="老客唤醒", kind="outbound_marketing", industry="industry.ecommerce", description="", script="您好",
        required_tags=(), min_tier=0, rate_fen_per_hour=3800, bonus_fen_per_contact=0, budget_fen=10_000_000,
        starts_on=today, ends_on=today + timedelta(days=30)))
    start = now + timedelta(hours=1)
    shift = Shift(campaign_id=campaign.id, starts_at=start, ends_at=start + timedelta(hours=4), seats=agents,
                  seats_taken=0, status=ShiftStatus.OPEN, created_at=now)
    session.add(shift)
    session.flush()
    campaigns.publish_campaign(session, campaign, now=now)
    session.commit()
    seats = []
    for i in range(agents):
        agent = members.register_agent(session, members.AgentSignup(
            name=f"坐席{i}", email=f"bench-agent{i}@example.cn", phone=f"137{i:08d}", city="成都",
            languages=("lang.mandarin",), password="bench password"), now=now)
        members.verify_agent(session, admin=admin, agent_id=agent.id, now=now)
        claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=now)
        seats.append((agent.id, claim.id))
        session.commit()
    csv_text = "姓名,手机\n" + "".join(f"客户{i},13{8 + i % 2}{i:08d}\n" for i in range(contacts))
    call_list = services.upload_call_list(
        session, user_id=owner.id, campaign=campaign, stream=io.BytesIO(csv_text.encode()), filename="list.csv",
        upload_dir=upload_dir, max_bytes=64 * 1024 * 1024, locale="zh", now=now)
    session.commit()
    done = services.import_call_list(session, call_list_id=call_list.id, vault=current_vault(), upload_dir=upload_dir,
                                     max_rows=10**6, now=now)
    assert done.rows_accepted == contacts, done.rows_accepted
    clock.freeze(start + timedelta(minutes=5))
    values = {"status": "checked_in"}
    if hasattr(Claim, "checked_in_at"):
        values["checked_in_at"] = clock.now()
    session.execute(update(Claim).where(Claim.shift_id == shift.id).values(**values))
    session.commit()
    return campaign.id, seats


def run_threads(app, seats, job) -> tuple[list, float, list[str]]:
    """job(session, agent_id, claim_id) -> (handed ids, latencies) in one thread per agent, started together."""
    from app.core.db import db

    barrier = threading.Barrier(len(seats) + 1)
    results: list = [None] * len(seats)
    errors: list[str] = []

    def worker(index, agent_id, claim_id):
        with app.app_context():
            try:
                barrier.wait(timeout=600)
                results[index] = job(db.session, agent_id, claim_id)
            except Exception as exc:  # reported, and fails the run
                errors.append(repr(exc))
                results[index] = ([], [])
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, a, c), daemon=True) for i, (a, c) in enumerate(seats)]
    for t in threads:
        t.start()
    barrier.wait(timeout=600)
    started = time.perf_counter()
    for t in threads:
        t.join()
    return results, time.perf_counter() - started, errors


def service_job(now):
    from app.contacts import services
    from app.core.db import commit_with_retry

    def job(session, agent_id, claim_id):
        handed, latencies = [], []
        while True:
            t0 = time.perf_counter()
            picked = commit_with_retry(session, lambda: services.next_contact(
                session, agent_id=agent_id, claim_id=claim_id, now=now), attempts=5)
            latencies.append(time.perf_counter() - t0)
            if picked is None:
                return handed, latencies
            handed.append(picked)
            time.sleep(TALK_S)
            commit_with_retry(session, lambda contact_id=picked: services.record_outcome(
                session, agent_id=agent_id, claim_id=claim_id, contact_id=contact_id, now=now,
                data=services.OutcomeInput("reached", 30)), attempts=5)
            time.sleep(TALK_S)

    return job


def floor_statements(campaign_id: int):
    """The bare hand-out (the same statement `_pick` builds for new contacts) and the mark-done update."""
    from sqlalchemy import bindparam, select, update

    from app.contacts.models import Contact
    from app.core.db import UTCDateTime

    free = Contact.__table__.alias("free")
    candidate = (select(free.c.id).where(free.c.campaign_id == campaign_id, free.c.status == "new")
                 .order_by(free.c.id).limit(1).with_for_update(skip_locked=True).scalar_subquery())
    hand_out = (update(Contact.__table__)
                .where(Contact.id == candidate, Contact.status == "new", Contact.assigned_claim_id.is_(None))
                .values(status="assigned", assigned_claim_id=bindparam("claim_id"),
                        assigned_agent_id=bindparam("agent_id"),
                        assigned_at=bindparam("now", type_=UTCDateTime()))
                .returning(Contact.id))
    done = (update(Contact.__table__).where(Contact.id == bindparam("contact_id"))
            .values(status="done", assigned_claim_id=None, assigned_agent_id=None, assigned_at=None))
    return hand_out, done


def floor_job(now, campaign_id):
    from app.core.db import db

    hand_out, done = floor_statements(campaign_id)

    def job(session, agent_id, claim_id):
        handed, latencies = [], []
        while True:
            with db.engine.connect() as conn:
                t0 = time.perf_counter()
                for _attempt in range(5):
                    try:
                        with conn.begin():
                            picked = conn.execute(hand_out, {"claim_id": claim_id, "agent_id": agent_id,
                                                             "now": now}).scalar()
                        break
                    except Exception as exc:
                        from app.core.db import is_retryable

                        if not is_retryable(exc):
                            raise
                latencies.append(time.perf_counter() - t0)
            if picked is None:
                return handed, latencies
            handed.append(picked)
            time.sleep(TALK_S)
            with db.engine.connect() as conn, conn.begin():
                conn.execute(done, {"contact_id": picked})
            time.sleep(TALK_S)

    return job


def reset(session, campaign_id: int) -> None:
    from sqlalchemy import delete, update

    from app.contacts.models import Contact, ContactAttempt

    session.execute(delete(ContactAttempt).where(ContactAttempt.campaign_id == campaign_id))
    session.execute(update(Contact).where(Contact.campaign_id == campaign_id)
                    .values(status="new", assigned_claim_id=None, assigned_agent_id=None, assigned_at=None,
                            attempts=0, last_outcome=None, last_attempt_at=None, callback_at=None))
    session.commit()


def verdict(results, contacts: int) -> dict:
    from bench.common import summary_ms

    handed = [c for ids, _ in results for c in ids]
    latencies = [x for _, lat in results for x in lat]
    counts = Counter(handed)
    return {"handed_out": len(handed), "distinct": len(counts),
            "double_handouts": sum(n - 1 for n in counts.values() if n > 1),
            "agents_served": sum(1 for ids, _ in results if ids), **summary_ms(latencies)}


def main(argv: list[str]) -> dict:
    import tempfile

    from sqlalchemy import func, select

    from bench.common import database_url, ensure_database, make_app

    size_name = "small" if "--small" in argv else "full"
    agents, per_agent = SIZES[size_name]["agents"], SIZES[size_name]["per_agent"]
    contacts = agents * per_agent
    url = os.environ.get("BENCH_DATABASE_URL") or database_url()
    sqlite = url.startswith("sqlite")
    if not sqlite:
        ensure_database(url)
    pool = {"pool_size": agents + 2, "max_overflow": 0, "pool_timeout": 600} if sqlite else \
        {"pool_size": PG_POOL, "max_overflow": 0, "pool_timeout": 600}
    upload_dir = tempfile.mkdtemp(prefix="surgeline-next-contact-")
    app = make_app(url, UPLOAD_DIR=upload_dir, SQLALCHEMY_ENGINE_OPTIONS=pool)
    figures: dict = {"size": size_name, "database": "sqlite" if sqlite else "postgresql", "agents": agents,
                     "contacts": contacts, "connections": agents if sqlite else PG_POOL,
                     "machine_cores": os.cpu_count()}
    with app.app_context():
        from app.contacts.models import ContactAttempt
        from app.core import clock
        from app.core.db import db

        log(f"seeding {agents} checked-in agents and {contacts} contacts")
        started = time.perf_counter()
        campaign_id, seats = seed(db.session, agents=agents, contacts=contacts, upload_dir=upload_dir)
        figures["seed_s"] = round(time.perf_counter() - started, 1)
        now = clock.now()
        db.session.remove()

        log("service phase: next_contact + record_outcome")
        results, elapsed, errors = run_threads(app, seats, service_job(now))
        service = verdict(results, contacts)
        attempts_twice = db.session.execute(
            select(ContactAttempt.contact_id).group_by(ContactAttempt.contact_id).having(func.count() > 1)).all()
        attempts = db.session.scalar(select(func.count(ContactAttempt.id)))
        service.update({"seconds": round(elapsed, 2), "handouts_per_s": round(service["handed_out"] / elapsed),
                        "errors": errors[:5], "attempts_recorded": attempts,
                        "contacts_with_two_attempts": len(attempts_twice)})
        figures["service"] = service
        reset(db.session, campaign_id)
        db.session.remove()

        log("floor phase: the bare hand-out statement loop")
        results, elapsed, errors = run_threads(app, seats, floor_job(now, campaign_id))
        floor = verdict(results, contacts)
        floor.update({"seconds": round(elapsed, 2), "handouts_per_s": round(floor["handed_out"] / elapsed),
                      "errors": errors[:5]})
        figures["floor"] = floor
        figures["service_vs_floor"] = round(floor["handouts_per_s"] / max(1, service["handouts_per_s"]), 2)
        checks = {
            "service_each_contact_once": service["handed_out"] == service["distinct"] == contacts == attempts,
            "service_no_double": service["double_handouts"] == 0 and not attempts_twice,
            "floor_each_contact_once": floor["handed_out"] == floor["distinct"] == contacts,
            "no_errors": not service["errors"] and not floor["errors"],
        }
        figures["checks"] = checks
        figures["ok"] = all(checks.values())
        db.session.remove()
        db.engine.dispose()
    clock.freeze(None)
    return figures
