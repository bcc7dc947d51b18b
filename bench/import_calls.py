"""Importing a call list: a generated GBK CSV of 1,000,000 customers (--small: 50,000) through the real importer.

    python -m bench import_calls [--small]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/surgeline_bench python -m bench import_calls --small

SQLite in a temp dir unless BENCH_DATABASE_URL names PostgreSQL (created when missing). The file is what
Excel's "CSV (逗号分隔)" export looks like: GBK, a Chinese header, numbers written several ways, 0.5 % of
rows broken (Excel's 1.38001E+10, too short) and 0.5 % repeating an earlier number.

Phases, on the same database:
* import — `upload_call_list` (synchronous header check) then `import_call_list` (the job's body), the
  whole pipeline: decode, parse, normalise with phonenumbers, AES-GCM + HMAC, de-duplicate, insert in
  batches of 5,000, error file, progress commits;
* floor  — plain `csv.reader` over a file of the accepted rows already in E.164 and `executemany` into
  a bare table with the same unique index, batches of 5,000 per transaction: the cost of the database
  and the CSV module alone.

Memory: peak RSS (getrusage) is read before and after the import; the file is never read whole, so the
growth stays flat whatever the row count. Checked: rows in = accepted + rejected, accepted = contacts
stored, rejected = rows in the error file, and every count matches what was generated.
"""

from __future__ import annotations

import csv
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from bench.common import ensure_database, logger

SIZES = {"full": 1_000_000, "small": 50_000}
BAD_SHARE = 0.005
DUPLICATE_SHARE = 0.005
BATCH = 5000


log = logger("import_calls")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def generate(path: Path, floor_path: Path, rows: int, seed: int = 11) -> dict:
    """Write the call list (GBK) and the floor's pre-normalised file; return the expected counts."""
    rng = random.Random(seed)
    expected = {"rows": rows, "accepted": 0, "bad": 0, "duplicates": 0}
    earlier: list[str] = []
    with open(path, "w", encoding="gbk", newline="") as out, open(floor_path, "w", encoding="utf-8",
                                                                   newline="") as floor:
        writer, floor_writer = csv.writer(out), csv.writer(floor)
        writer.writerow(["姓名", "手机号码", "备注", "城市"])
        floor_writer.writerow(["name", "phone", "note", "city"])
        for i in range(rows):
            roll = rng.random()
            name, note, city = f"客户{i:07d}", ("老客户，上次购买 2026-10" if i % 7 == 0 else ""), "成都"
            if roll < BAD_SHARE:
                phone = rng.choice(["1.38001E+10", "12345", "138-0013-80"])
                expected["bad"] += 1
            elif roll < BAD_SHARE + DUPLICATE_SHARE and earlier:
                phone = rng.choice(earlier)
                expected["duplicates"] += 1
            else:
                digits = f"1{rng.choice('3578')}{i:09d}"
                style = i % 4
                phone = (digits if style == 0 else f"{digits[:3]} {digits[3:7]} {digits[7:]}" if style == 1
                         else f"+86{digits}" if style == 2 else f"{digits}.0")
                if len(earlier) < 1000:
                    earlier.append(phone)
                expected["accepted"] += 1
                floor_writer.writerow([name, f"+86{digits}", note, city])
            writer.writerow([name, phone, note, city])
    return expected


def make_campaign(session, now):
    """One client and an outbound campaign, through the real services."""
    from datetime import timedelta

    from app.campaigns import services as campaigns
    from app.core.timefmt import local_today
    from app.members import services as members

    members.PASSWORD_METHOD = "pbkdf2:sha256:1000"
    owner = members.register_client(session, members.ClientSignup(
        organisation="基准测试", industry="industry.ecommerce", name="基准", email="bench-import@example.cn",
        phone="13900139000", password="bench password"), now=now)
    today = local_today(now)
    campaign = campaigns.create_campaign(session, user=owner, now=now, today=today, data=campaigns.CampaignInput(
        name="百万老客唤醒", kind="outbound_marketing", industry="industry.ecommerce", description="", script="您好",
        required_tags=(), min_tier=1, rate_fen_per_hour=3800, bonus_fen_per_contact=0, budget_fen=10_000_000,
        starts_on=today, ends_on=today + timedelta(days=30)))
    session.commit()
    return owner, campaign


def floor(engine, floor_path: Path, campaign_id: int) -> float:
    """csv.reader + executemany of pre-normalised rows into a bare table with the same unique index."""
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_floor_contacts"))
        key = "INTEGER PRIMARY KEY" if engine.dialect.name == "sqlite" else "SERIAL PRIMARY KEY"
        conn.execute(text(f"CREATE TABLE bench_floor_contacts (id {key}, campaign_id INTEGER NOT NULL, "
                          "source_row INTEGER NOT NULL, name VARCHAR(120) NOT NULL, phone VARCHAR(20) NOT NULL, "
                          "note TEXT NOT NULL, city TEXT NOT NULL)"))
        conn.execute(text("CREATE UNIQUE INDEX uq_bench_floor ON bench_floor_contacts (campaign_id, phone)"))
    sql = ("INSERT INTO bench_floor_contacts (campaign_id, source_row, name, phone, note, city) "
           "VALUES (?, ?, ?, ?, ?, ?)" if engine.dialect.name == "sqlite" else
           "INSERT INTO bench_floor_contacts (campaign_id, source_row, name, phone, note, city) "
           "VALUES (%s, %s, %s, %s, %s, %s)")
    started = time.perf_counter()
    with open(floor_path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        batch = []
        for row_number, (name, phone, note, city) in enumerate(reader, start=2):
            batch.append((campaign_id, row_number, name, phone, note, city))
            if len(batch) >= BATCH:
                with engine.begin() as conn:
                    conn.exec_driver_sql(sql, batch)
                batch = []
        if batch:
            with engine.begin() as conn:
                conn.exec_driver_sql(sql, batch)
    return time.perf_counter() - started


def main(argv: list[str]) -> dict:
    from sqlalchemy import func, select

    from bench.common import database_url, make_app

    size = "small" if "--small" in argv else "full"
    rows = SIZES[size]
    url = os.environ.get("BENCH_DATABASE_URL") or database_url()
    if url.startswith(("postgresql", "postgres:")):
        ensure_database(url)
    work = Path(tempfile.mkdtemp(prefix="surgeline-import-bench-"))
    source, floor_source = work / "customers.csv", work / "floor.csv"
    log(f"generating {rows:,} rows in {work}")
    expected = generate(source, floor_source, rows)
    file_mb = round(source.stat().st_size / 1048576, 1)
    app = make_app(url, UPLOAD_DIR=str(work / "uploads"))
    figures: dict = {"size": size, "rows": rows, "file_mb": file_mb, "encoding": "gbk",
                     "database": "sqlite" if url.startswith("sqlite") else "postgresql",
                     "machine_cores": os.cpu_count(), "batch": BATCH}
    with app.app_context():
        from app.contacts import services
        from app.contacts.crypto import current_vault
        from app.contacts.models import CallList, Contact
        from app.core import clock
        from app.core.db import db

        session = db.session
        owner, campaign = make_campaign(session, clock.now())
        rss_before = peak_rss_mb()
        log(f"importing ({file_mb} MB); peak RSS before: {rss_before} MB")
        started = time.perf_counter()
        with open(source, "rb") as stream:
            call_list = services.upload_call_list(
                session, user_id=owner.id, campaign=campaign, stream=stream, filename="customers.csv",
                upload_dir=app.config["UPLOAD_DIR"], max_bytes=app.config["CALL_LIST_MAX_BYTES"], locale="zh",
                now=clock.now())
        session.commit()
        upload_s = time.perf_counter() - started
        services.import_call_list(session, call_list_id=call_list.id, vault=current_vault(),
                                  upload_dir=app.config["UPLOAD_DIR"], max_rows=app.config["CALL_LIST_MAX_ROWS"],
                                  now=clock.now())
        elapsed = time.perf_counter() - started
        rss_after = peak_rss_mb()
        done = session.get(CallList, call_list.id)
        stored = session.scalar(select(func.count(Contact.id)).where(Contact.campaign_id == campaign.id))
        error_path = services.errors_path(app.config["UPLOAD_DIR"], done)
        with open(error_path, encoding="utf-8-sig", newline="") as f:
            error_rows = sum(1 for _ in csv.reader(f)) - 1
        campaign_id = campaign.id
        session.rollback()  # SQLite: release the write lock before the floor's own transactions
        log(f"imported in {elapsed:.1f}s; running the floor")
        floor_s = floor(db.engine, floor_source, campaign_id)
        figures.update({
            "upload_check_s": round(upload_s, 3),
            "import_s": round(elapsed, 2),
            "rows_per_s": round(rows / elapsed),
            "accepted": done.rows_accepted, "rejected": done.rows_rejected, "blank": done.rows_blank,
            "expected": expected,
            "peak_rss_before_mb": rss_before, "peak_rss_after_mb": rss_after,
            "rss_growth_mb": round(rss_after - rss_before, 1),
            "floor_s": round(floor_s, 2),
            "floor_rows_per_s": round(expected["accepted"] / floor_s),
            "import_vs_floor": round(elapsed / (floor_s * rows / expected["accepted"]), 2),
        })
        checks = {
            "accounted": done.rows_processed == done.rows_accepted + done.rows_rejected == rows,
            "accepted_as_generated": done.rows_accepted == expected["accepted"] == stored,
            "rejected_as_generated": done.rows_rejected == expected["bad"] + expected["duplicates"] == error_rows,
            "status_done": done.status == "done",
        }
        figures["checks"] = checks
        figures["ok"] = all(checks.values())
        db.session.remove()
        db.engine.dispose()
    return figures
