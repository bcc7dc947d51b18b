"""Contacts: uploading and importing call lists, handing out contacts, outcomes, reveals, inbound logs.

Rules and what backs them:
- a contact is held by at most one agent: handing out is one conditional UPDATE over a row picked with
  `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers instead), and
  `status = 'assigned'` must agree with the assignment columns (CHECK);
- an agent holds at most one contact: a unique partial index on assigned_agent_id;
- a number appears once per campaign: unique (campaign_id, phone_hash), which is also how an import
  drops duplicates (ON CONFLICT DO NOTHING, then explains each dropped row);
- an import accounts for every row: CHECK (rows_processed = rows_accepted + rows_rejected).
"""

from __future__ import annotations

import csv
import json
import os
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, insert, select, update
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign, CampaignKind, CampaignStatus
from app.claims.models import Claim, ClaimStatus
from app.contacts import csvfile, phones
from app.contacts.crypto import PhoneVault
from app.contacts.labels import row_reason
from app.contacts.models import (
    CallList,
    CallListStatus,
    Contact,
    ContactAttempt,
    ContactReveal,
    ContactStatus,
    InboundCategory,
    InboundChannel,
    InboundContact,
    Outcome,
    Resolution,
)
from app.core import clock
from app.core.db import UTCDateTime
from app.core.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from app.core.jobs import enqueue
from app.core.timefmt import display_tz

OUTBOUND_KINDS = frozenset({CampaignKind.OUTBOUND_CALLBACK, CampaignKind.OUTBOUND_MARKETING})
ALLOWED_SUFFIXES = (".csv", ".txt")
BATCH_SIZE = 5000
COPY_CHUNK = 1024 * 1024
# An import whose heartbeat is older than this is taken over by the next delivery of its job.
IMPORT_STALE_AFTER = timedelta(minutes=5)
MAX_NAME_CHARS = 120
MAX_FIELD_CHARS = 2000
MAX_NOTES_CHARS = 2000
MAX_DURATION_SECONDS = 4 * 3600
# No answer / busy: the contact comes back after this delay, until it has been tried this many times.
RETRY_AFTER = timedelta(minutes=30)
MAX_ATTEMPTS = 3

# Control characters (except tab and newline) and bidi overrides are dropped from stored text.
_STRIP_TEXT = {cp: None for cp in range(32) if cp not in (9, 10)}
_STRIP_TEXT.update({cp: None for cp in (0x7F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068,
                                        0x2069, 0x200E, 0x200F)})


class TooLarge(DomainError):
    status = 413
    code = "too_large"


# --- uploads ----------------------------------------------------------------------------------------

CSV_PROBLEMS = {
    "empty": _l("The file is empty."),
    "xlsx": _l("This is an Excel workbook, not a CSV file. In Excel choose Save as → CSV (comma delimited) "
               "and upload that file."),
    "xls": _l("This is an Excel workbook, not a CSV file. In Excel choose Save as → CSV (comma delimited) "
              "and upload that file."),
    "not_text": _l("This file is not a CSV text file."),
    "encoding": _l("The file's characters cannot be read. Save it as CSV in UTF-8 or GBK (Excel's "
                   "“CSV (逗号分隔)”) and upload it again."),
    "no_header": _l("The first row must hold the column names (姓名, 手机, 备注…)."),
    "no_rows": _l("The file has a header row but no customers below it."),
}


def _csv_problem_message(problem: csvfile.CsvProblem):
    from flask_babel import lazy_gettext

    if problem.code == "no_phone_column":
        return lazy_gettext("No phone column found: name it 手机 or phone. Columns in the file: %(found)s",
                            found=problem.detail.get("found", ""))
    if problem.code == "duplicate_column":
        return lazy_gettext("Two columns hold the same thing (%(columns)s): keep one of them.",
                            columns=problem.detail.get("columns", ""))
    if problem.code == "too_many_columns":
        return lazy_gettext("The file has more than %(limit)d columns.", limit=problem.detail.get("limit", 0))
    return CSV_PROBLEMS.get(problem.code, CSV_PROBLEMS["not_text"])


def call_list_dir(upload_dir: str | Path) -> Path:
    return Path(upload_dir) / "call_lists"


def source_path(upload_dir: str | Path, call_list: CallList) -> Path:
    return call_list_dir(upload_dir) / call_list.stored_name


def errors_path(upload_dir: str | Path, call_list: CallList) -> Path:
    return call_list_dir(upload_dir) / (Path(call_list.stored_name).stem + ".errors.csv")


def get_call_list_for_org(session: Session, call_list_id: int, organisation_id: int) -> CallList:
    """A client's own call list, or NotFound (another tenant's ids look like missing ones)."""
    found = session.execute(
        select(CallList).join(Campaign, Campaign.id == CallList.campaign_id)
        .where(CallList.id == call_list_id, Campaign.organisation_id == organisation_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_l("No such call list."))
    return found


def _display_filename(filename: str) -> str:
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = name.translate(_STRIP_TEXT).strip()
    return name[:255] or "upload.csv"


def size_text(size: int) -> str:
    """64 MB, 500 KB."""
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def _save_stream(stream: BinaryIO, target: Path, max_bytes: int) -> int:
    """Copy the upload in chunks, refusing it as soon as it passes the limit (the memory used stays flat)."""
    written = 0
    with open(target, "wb") as out:
        while True:
            chunk = stream.read(COPY_CHUNK)
            if not chunk:
                break
            written += len(chunk)
            if written > max_bytes:
                raise TooLarge(_l("The file is larger than %(size)s. Split it into smaller files.",
                                  size=size_text(max_bytes)))
            out.write(chunk)
    return written


def upload_call_list(session: Session, *, user_id: int, campaign: Campaign, stream: BinaryIO, filename: str,
                     upload_dir: str | Path, max_bytes: int, locale: str, now: datetime) -> CallList:
    """Store an uploaded customer file, check its header now, and queue its import.

    Everything that makes a file unusable as a whole (not CSV, unreadable, no phone column, header only,
    too large) is refused here with a message; row-level problems are the importer's, reported per row.
    """
    if campaign.kind not in OUTBOUND_KINDS:
        raise Conflict(_l("Only outbound campaigns have call lists."))
    if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        raise Conflict(_l("A finished campaign cannot take new call lists."))
    shown_name = _display_filename(filename)
    if not shown_name.lower().endswith(ALLOWED_SUFFIXES):
        raise Invalid(_l("Upload a CSV file (its name ends in .csv)."), field="file")
    directory = call_list_dir(upload_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stored_name = f"{uuid.uuid4().hex}.csv"
    target = directory / stored_name
    try:
        size = _save_stream(stream, target, max_bytes)
        try:
            layout = csvfile.inspect(target)
        except csvfile.CsvProblem as problem:
            raise Invalid(_csv_problem_message(problem), field="file") from None
        call_list = CallList(
            campaign_id=campaign.id, uploaded_by_id=user_id, filename=shown_name, stored_name=stored_name,
            size_bytes=size, encoding=layout.encoding, delimiter=layout.delimiter, locale=locale[:5],
            status=CallListStatus.QUEUED, rows_processed=0, rows_accepted=0, rows_rejected=0, rows_blank=0,
            records_read=0, error_bytes=0, created_at=now,
        )
        session.add(call_list)
        session.flush()
        enqueue(session, "contacts.import_call_list", call_list_id=call_list.id)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return call_list


# --- the importer -----------------------------------------------------------------------------------

@dataclass
class _Counts:
    processed: int
    accepted: int
    rejected: int
    blank: int
    records: int


class _ErrorSheet:
    """The downloadable error CSV: row number, reason and the row's own cells, every cell defused."""

    def __init__(self, path: Path, header: list[str], committed_bytes: int, *, row_label: str, reason_label: str):
        self.path = path
        self.header = header
        self.labels = (row_label, reason_label)
        if path.exists():
            with open(path, "r+b") as f:
                f.truncate(committed_bytes)  # drop what an interrupted batch wrote after its last commit
        elif committed_bytes:
            raise RuntimeError(f"error file {path} vanished")
        self._file = None
        self._writer = None

    def _open(self):
        if self._file is None:
            fresh = not self.path.exists() or self.path.stat().st_size == 0
            self._file = open(self.path, "a", encoding="utf-8", newline="")  # noqa: SIM115  (closed by close())
            self._writer = csv.writer(self._file)
            if fresh:
                self._file.write("\ufeff")  # so Excel opens it as UTF-8
                self._writer.writerow([csvfile.defuse(c) for c in (*self.labels, *self.header)])
        return self._writer

    def write(self, row: int, reason: str, cells: list[str] | None) -> None:
        self._open().writerow([str(row), csvfile.defuse(reason), *(csvfile.defuse(c) for c in (cells or []))])

    def sync(self) -> int:
        """Flush to disk; returns the file size to commit with the batch."""
        if self._file is None:
            return self.path.stat().st_size if self.path.exists() else 0
        self._file.flush()
        os.fsync(self._file.fileno())
        return self._file.tell()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _clean_text(value: str) -> str:
    return value.translate(_STRIP_TEXT).strip()


def _claim_import(session: Session, call_list_id: int, now: datetime) -> bool:
    """Only one importer works on a list; a stalled one (no heartbeat) is taken over."""
    result = session.execute(
        update(CallList)
        .where(CallList.id == call_list_id,
               (CallList.status == CallListStatus.QUEUED)
               | ((CallList.status == CallListStatus.IMPORTING) & (CallList.heartbeat_at < now - IMPORT_STALE_AFTER)))
        .values(status=CallListStatus.IMPORTING, heartbeat_at=now,
                started_at=case((CallList.started_at.is_(None), now), else_=CallList.started_at))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def import_call_list(session: Session, *, call_list_id: int, vault: PhoneVault, upload_dir: str | Path,
                     max_rows: int, now: datetime, batch_size: int = BATCH_SIZE,
                     heartbeat: Callable[[], datetime] = clock.now) -> CallList | None:
    """Import (or resume importing) a queued call list, streaming the file in batches of `batch_size` rows.

    A job owns its units of work: each batch commits its contacts together with the list's counters and
    the error file's committed length, so the page shows progress and a crash resumes where it stopped.
    Returns the list, or None when another importer holds it or it is finished.
    """
    if not _claim_import(session, call_list_id, now):
        return None
    call_list = session.get(CallList, call_list_id)
    source = source_path(upload_dir, call_list)
    if not source.exists():
        call_list.status = CallListStatus.FAILED
        call_list.error_message = "uploaded file is missing"
        call_list.finished_at = heartbeat()
        session.commit()
        return call_list
    try:
        with force_locale(call_list.locale or "zh"):
            _run_import(session, call_list, vault=vault, source=source, upload_dir=upload_dir, max_rows=max_rows,
                        batch_size=batch_size, heartbeat=heartbeat)
    except BaseException:
        # Progress up to the last batch is committed; hand the list back so the job's retry resumes it.
        session.rollback()
        session.execute(update(CallList).where(CallList.id == call_list_id, CallList.status == CallListStatus.IMPORTING)
                        .values(status=CallListStatus.QUEUED))
        session.commit()
        raise
    source.unlink(missing_ok=True)  # the plain-text upload is not kept once imported
    return session.get(CallList, call_list_id)


def _run_import(session: Session, call_list: CallList, *, vault: PhoneVault, source: Path, upload_dir, max_rows: int,
                batch_size: int, heartbeat: Callable[[], datetime]) -> None:
    from flask_babel import gettext

    list_id, campaign_id = call_list.id, call_list.campaign_id
    counts = _Counts(call_list.rows_processed, call_list.rows_accepted, call_list.rows_rejected, call_list.rows_blank,
                     call_list.records_read)
    try:
        layout = csvfile.inspect(source)
    except csvfile.CsvProblem as problem:
        call_list.status = CallListStatus.FAILED
        call_list.error_message = str(_csv_problem_message(problem))
        call_list.finished_at = heartbeat()
        session.commit()
        return
    columns = len(layout.header)
    sheet = _ErrorSheet(errors_path(upload_dir, call_list), layout.header, call_list.error_bytes,
                        row_label=gettext("Row"), reason_label=gettext("Reason"))
    insert_rows = _RowInserter(session)
    pending: list[tuple] = []
    pending_rows: dict[bytes, tuple[int, list[str]]] = {}

    def reject(at_row: int, code: str, cells: list[str] | None, /, **detail) -> None:
        counts.processed += 1
        counts.rejected += 1
        sheet.write(at_row, row_reason(code, **detail), cells)

    def flush() -> None:
        if pending:
            inserted = insert_rows(pending)
            duplicates = [h for h in pending_rows if h not in inserted]
            if duplicates:
                _explain_duplicates(session, campaign_id, list_id, duplicates, pending_rows, reject)
            counts.processed += len(inserted)
            counts.accepted += len(inserted)
        session.execute(
            update(CallList).where(CallList.id == list_id)
            .values(rows_processed=counts.processed, rows_accepted=counts.accepted, rows_rejected=counts.rejected,
                    rows_blank=counts.blank, records_read=counts.records, error_bytes=sheet.sync(),
                    heartbeat_at=heartbeat())
            .execution_options(synchronize_session=False)
        )
        session.commit()
        pending.clear()
        pending_rows.clear()

    created_at = insert_rows.timestamp(heartbeat())
    try:
        with csvfile.open_text(source, layout.encoding) as text:
            for index, record in enumerate(csvfile.records(text, layout)):
                if index < call_list.records_read:
                    continue  # done by an earlier, interrupted run
                counts.records += 1
                row, cells = record.row, record.cells
                if cells is None:
                    reject(row, "unreadable", [record.error or ""])
                elif record.blank:
                    counts.blank += 1
                elif counts.processed + len(pending) >= max_rows:
                    reject(row, "row_limit", cells, limit=max_rows)
                else:
                    accepted = _prepare(row, cells, layout, columns, vault, campaign_id, list_id, created_at,
                                        pending_rows, reject)
                    if accepted is not None:
                        pending.append(accepted)
                if len(pending) >= batch_size or (counts.records % (batch_size * 4) == 0):
                    flush()
            flush()
    finally:
        sheet.close()
    session.execute(update(CallList).where(CallList.id == list_id)
                    .values(status=CallListStatus.DONE, finished_at=heartbeat())
                    .execution_options(synchronize_session=False))
    from app.webhooks.services import call_list_imported

    call_list_imported(session, call_list_id=list_id, now=heartbeat())  # webhook rows commit with the status
    session.commit()


def _prepare(row: int, cells: list[str], layout: csvfile.Layout, columns: int, vault: PhoneVault, campaign_id: int,
             list_id: int, created_at, pending_rows: dict, reject) -> tuple | None:
    """One data row -> the contact to insert, or a rejection with its reason."""
    joined = "\x1f".join(cells)
    if "\ufffd" in joined:
        reject(row, "bad_characters", cells)
        return None
    if "\x00" in joined:
        reject(row, "control_characters", cells)
        return None
    if len(cells) > columns and any(c.strip() for c in cells[columns:]):
        reject(row, "too_many_cells", cells, cells=len(cells), columns=columns)
        return None
    parsed = phones.normalise(cells[layout.phone_index] if layout.phone_index < len(cells) else "")
    if parsed.e164 is None:
        reject(row, str(parsed.reason), cells)
        return None
    name = ""
    if layout.name_index is not None and layout.name_index < len(cells):
        name = " ".join(_clean_text(cells[layout.name_index]).split())
        if len(name) > MAX_NAME_CHARS:
            reject(row, "name_too_long", cells)
            return None
    extra = {}
    if layout.note_index is not None and layout.note_index < len(cells):
        note = _clean_text(cells[layout.note_index])
        if note:
            extra["note"] = note
    for index, label in layout.extra:
        if index < len(cells):
            value = _clean_text(cells[index])
            if value:
                extra[label] = value
    if any(len(v) > MAX_FIELD_CHARS for v in extra.values()):
        reject(row, "field_too_long", cells)
        return None
    digest = vault.digest(parsed.e164)
    first = pending_rows.get(digest)
    if first is not None:
        reject(row, "duplicate_in_list", cells, row=first[0])
        return None
    pending_rows[digest] = (row, cells)
    return (campaign_id, list_id, row, name, _JSON.encode(extra) if extra else "{}",
            vault.encrypt(parsed.e164, campaign_id=campaign_id), digest, "new", 0, created_at)


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one encoder, not one per row


class _RowInserter:
    """INSERT … ON CONFLICT (campaign_id, phone_hash) DO NOTHING RETURNING phone_hash, a batch at a time.

    Rows are plain tuples sent straight to the driver: per-row bind processing through SQLAlchemy cost more
    than everything else in the import together (see bench/import_calls.py). PostgreSQL gets one statement
    per batch with a column array per field (`unnest`), so the statement text stays short and cached;
    SQLite gets multi-row VALUES. The column list follows `_prepare`'s tuples; a drift fails the tests.
    """

    PG_SQL = (
        "INSERT INTO contacts (campaign_id, call_list_id, source_row, name, extra, phone_ciphertext, phone_hash, "
        "status, attempts, created_at) "
        "SELECT %s, %s, r.source_row, r.name, r.extra::json, r.phone_ciphertext, r.phone_hash, 'new', 0, %s "
        "FROM unnest(%s::int[], %s::text[], %s::text[], %s::bytea[], %s::bytea[]) "
        "AS r(source_row, name, extra, phone_ciphertext, phone_hash) "
        "ON CONFLICT (campaign_id, phone_hash) DO NOTHING RETURNING phone_hash"
    )

    COLUMNS = ("campaign_id", "call_list_id", "source_row", "name", "extra", "phone_ciphertext", "phone_hash",
               "status", "attempts", "created_at")

    def __init__(self, session: Session):
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.chunk = 500  # SQLite allows 32,766 bound values per statement
        self._sql: dict[int, str] = {}

    def timestamp(self, value: datetime):
        """created_at as the driver takes it (UTCDateTime stores naive UTC text on SQLite)."""
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds") if self.sqlite else value

    def _statement(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            mark = "?" if self.sqlite else "%s"
            one = "(" + ", ".join([mark] * len(self.COLUMNS)) + ")"
            sql = (f"INSERT INTO contacts ({', '.join(self.COLUMNS)}) VALUES {', '.join([one] * rows)} "  # nosec B608  # fixed column names and placeholders only
                   "ON CONFLICT (campaign_id, phone_hash) DO NOTHING RETURNING phone_hash")
            self._sql[rows] = sql
        return sql

    def __call__(self, rows: list[tuple]) -> set[bytes]:
        """Insert the rows; returns the hashes that went in (the others were already in the campaign)."""
        connection = self.session.connection()
        if not self.sqlite:
            first = rows[0]
            columns = [list(column) for column in zip(*(row[2:7] for row in rows), strict=True)]
            return {bytes(r[0]) for r in connection.exec_driver_sql(
                self.PG_SQL, (first[0], first[1], first[9], *columns))}
        inserted: set[bytes] = set()
        for start in range(0, len(rows), self.chunk):
            chunk = rows[start:start + self.chunk]
            params = tuple(value for row in chunk for value in row)
            inserted.update(bytes(r[0]) for r in connection.exec_driver_sql(self._statement(len(chunk)), params))
        return inserted


def _explain_duplicates(session: Session, campaign_id: int, list_id: int, hashes: list[bytes],
                        pending_rows: dict, reject) -> None:
    """Rows the unique constraint dropped: same number earlier in this list, or already in the campaign."""
    existing = {}
    for start in range(0, len(hashes), 500):
        chunk = hashes[start:start + 500]
        existing.update({bytes(h): (lid, srow) for h, lid, srow in session.execute(
            select(Contact.phone_hash, Contact.call_list_id, Contact.source_row)
            .where(Contact.campaign_id == campaign_id, Contact.phone_hash.in_(chunk)))})
    for digest in sorted(hashes, key=lambda h: pending_rows[h][0]):
        row, cells = pending_rows[digest]
        found = existing.get(digest)
        if found is not None and found[0] == list_id:
            reject(row, "duplicate_in_list", cells, row=found[1])
        else:
            reject(row, "duplicate_in_campaign", cells)


def resume_stalled_imports(session: Session, *, now: datetime) -> int:
    """Re-queue imports whose importer died (no heartbeat for a while) or that wait without a job."""
    stalled = list(session.scalars(
        select(CallList.id).where(
            ((CallList.status == CallListStatus.IMPORTING) & (CallList.heartbeat_at < now - IMPORT_STALE_AFTER))
            | ((CallList.status == CallListStatus.QUEUED) & (CallList.created_at < now - IMPORT_STALE_AFTER)))
        .limit(100)
    ))
    for call_list_id in stalled:
        enqueue(session, "contacts.import_call_list", call_list_id=call_list_id)
    return len(stalled)


def purge_call_list_files(session: Session, *, upload_dir: str | Path, now: datetime, retention: timedelta) -> int:
    """Delete uploads and error files of lists finished longer ago than the retention period."""
    lists = list(session.scalars(
        select(CallList).where(CallList.status.in_((CallListStatus.DONE, CallListStatus.FAILED)),
                               CallList.files_purged_at.is_(None), CallList.finished_at < now - retention)
        .limit(1000)
    ))
    for call_list in lists:
        source_path(upload_dir, call_list).unlink(missing_ok=True)
        errors_path(upload_dir, call_list).unlink(missing_ok=True)
        call_list.files_purged_at = now
    session.flush()
    return len(lists)


# --- the console ------------------------------------------------------------------------------------

class _Hot:
    """The console's statements, built once with bind parameters: building them per call (the alias, the
    column collections) cost more than running them (bench/next_contact.py)."""

    def __init__(self):
        t = Contact.__table__
        now = bindparam("b_now", type_=UTCDateTime())
        claims, campaigns = Claim.__table__, Campaign.__table__  # Core columns: no ORM in the hot path
        self.state = (
            select(claims.c.agent_id, claims.c.status, claims.c.ends_at, campaigns.c.id, campaigns.c.kind,
                   campaigns.c.ends_on)
            .join(campaigns, campaigns.c.id == claims.c.campaign_id).where(claims.c.id == bindparam("b_claim_id"))
        )
        self.held = select(t.c.id, t.c.assigned_claim_id).where(
            t.c.assigned_agent_id == bindparam("b_agent_id"), t.c.status == ContactStatus.ASSIGNED.value)
        self.pick = {due: self._pick(t, now, due) for due in (True, False)}
        done = dict(assigned_claim_id=None, assigned_agent_id=None, assigned_at=None,
                    attempts=t.c.attempts + 1, last_outcome=bindparam("b_outcome"), last_attempt_at=now)
        held_here = (t.c.id == bindparam("b_contact_id"), t.c.campaign_id == bindparam("b_campaign_id"),
                     t.c.status == ContactStatus.ASSIGNED.value, t.c.assigned_agent_id == bindparam("b_agent_id"),
                     t.c.assigned_claim_id == bindparam("b_claim_id"))
        self.outcome = update(t).where(*held_here).values(
            status=bindparam("b_new_status"), callback_at=bindparam("b_new_callback_at", type_=UTCDateTime()),
            **done).returning(t.c.id)
        # No answer / busy: back after RETRY_AFTER until MAX_ATTEMPTS calls were made.
        last_try = t.c.attempts + 1 >= MAX_ATTEMPTS
        self.retry = update(t).where(*held_here).values(
            status=case((last_try, ContactStatus.DONE.value), else_=ContactStatus.CALLBACK.value),
            callback_at=case((last_try, None), else_=bindparam("b_retry_at", type_=UTCDateTime())),
            **done).returning(t.c.id)
        a = ContactAttempt.__table__
        self.attempt = insert(a).values(
            contact_id=bindparam("b_contact_id"), campaign_id=bindparam("b_campaign_id"),
            claim_id=bindparam("b_claim_id"), agent_id=bindparam("b_agent_id"), outcome=bindparam("b_outcome"),
            callback_at=bindparam("b_attempt_callback_at", type_=UTCDateTime()),
            duration_seconds=bindparam("b_duration_seconds"), notes=bindparam("b_notes"),
            transcript=bindparam("b_transcript"), created_at=now,
        ).returning(a.c.id)

    @staticmethod
    def _pick(t, now, due_callbacks: bool):
        """Pick the first free contact (skipping rows others have locked) and mark it, in one statement."""
        status = (ContactStatus.CALLBACK if due_callbacks else ContactStatus.NEW).value
        free = t.alias("free")  # an alias, so the subquery is not correlated to the UPDATE
        candidate = select(free.c.id).where(free.c.campaign_id == bindparam("b_campaign_id"), free.c.status == status)
        if due_callbacks:
            candidate = candidate.where(free.c.callback_at <= now).order_by(free.c.callback_at, free.c.id)
        else:
            candidate = candidate.order_by(free.c.id)
        # PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite ignores it (BEGIN IMMEDIATE already made us the only writer).
        candidate = candidate.limit(1).with_for_update(skip_locked=True).scalar_subquery()
        return (update(t).where(t.c.id == candidate, t.c.status == status, t.c.assigned_claim_id.is_(None))
                .values(status=ContactStatus.ASSIGNED.value, assigned_claim_id=bindparam("b_claim_id"),
                        assigned_agent_id=bindparam("b_agent_id"), assigned_at=now)
                .returning(t.c.id))


@lru_cache(maxsize=1)
def _hot() -> _Hot:
    return _Hot()


@dataclass(frozen=True)
class ConsoleState:
    claim_id: int
    campaign_id: int
    kind: str
    ends_on: date


def console_state(session: Session, *, agent_id: int, claim_id: int, now: datetime) -> ConsoleState:
    """The console's gate in one indexed read (the hot paths: next contact, outcome, reveal, inbound log)."""
    row = session.execute(_hot().state, {"b_claim_id": claim_id}).first()
    if row is None or row.agent_id != agent_id:
        raise NotFound(_l("No such claim."))
    _check_console_open(row.status, row.ends_at, now)
    return ConsoleState(claim_id, row.id, row.kind, row.ends_on)


def _check_console_open(status: str, ends_at: datetime, now: datetime) -> None:
    if status != ClaimStatus.CHECKED_IN:
        raise Conflict(_l("The console opens once you have checked in to this shift."), code="not_checked_in")
    if now >= ends_at:
        raise Conflict(_l("This shift has ended."), code="shift_over")


def console_claim(session: Session, *, agent_id: int, claim_id: int, now: datetime) -> tuple[Claim, Campaign]:
    """The agent's own claim, checked in and not over: the only time the console works."""
    row = session.execute(
        select(Claim, Campaign).join(Campaign, Campaign.id == Claim.campaign_id).where(Claim.id == claim_id)
    ).first()
    if row is None or row.Claim.agent_id != agent_id:
        raise NotFound(_l("No such claim."))
    claim, campaign = row
    _check_console_open(claim.status, claim.ends_at, now)
    return claim, campaign


def _outbound(campaign: Campaign | ConsoleState) -> None:
    if campaign.kind not in OUTBOUND_KINDS:
        raise Conflict(_l("This is an inbound campaign: log the contacts you handle instead."), code="inbound")


def held_contact_id(session: Session, *, agent_id: int) -> tuple[int, int] | None:
    """(contact id, claim id) of the contact the agent holds, if any."""
    row = session.execute(_hot().held, {"b_agent_id": agent_id}).first()
    return (row[0], row[1]) if row else None


def _back_to_list(session: Session, contact_ids) -> int:
    """Unassign without an outcome: a due callback stays a callback, the rest are new again."""
    return session.execute(
        update(Contact)
        .where(Contact.id.in_(contact_ids), Contact.status == ContactStatus.ASSIGNED)
        .values(status=case((Contact.callback_at.is_(None), ContactStatus.NEW.value),
                            else_=ContactStatus.CALLBACK.value),
                assigned_claim_id=None, assigned_agent_id=None, assigned_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def _pick(session: Session, *, campaign_id: int, claim_id: int, agent_id: int, now: datetime, due_callbacks: bool):
    """Assign the first free contact: `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING`."""
    return session.execute(_hot().pick[due_callbacks], {"b_campaign_id": campaign_id, "b_claim_id": claim_id,
                                                        "b_agent_id": agent_id, "b_now": now}).scalar()


def next_contact(session: Session, *, agent_id: int, claim_id: int, now: datetime) -> int | None:
    """Hand the agent the next contact of the campaign (due callbacks first), or the one they already hold.

    Returns the contact id, or None when nothing is due. A double tap racing itself on PostgreSQL ends in
    an IntegrityError on the one-contact-per-agent index; `app.core.db.commit_with_retry` reruns it and finds the hold.
    """
    campaign = console_state(session, agent_id=agent_id, claim_id=claim_id, now=now)
    _outbound(campaign)
    held = held_contact_id(session, agent_id=agent_id)
    if held is not None:
        if held[1] == claim_id:
            return held[0]
        _back_to_list(session, [held[0]])  # left over from an earlier shift
    for due_callbacks in (True, False):
        picked = _pick(session, campaign_id=campaign.campaign_id, claim_id=claim_id, agent_id=agent_id, now=now,
                       due_callbacks=due_callbacks)
        if picked is not None:
            return picked
    return None


def _held_by(session: Session, *, contact_id: int, campaign_id: int, agent_id: int, claim_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.campaign_id != campaign_id:
        raise NotFound(_l("No such contact."))
    if (contact.status != ContactStatus.ASSIGNED or contact.assigned_agent_id != agent_id
            or contact.assigned_claim_id != claim_id):
        raise NotAllowed(_l("This contact is not yours to call right now."), code="not_holder")
    return contact


@dataclass(frozen=True)
class OutcomeInput:
    outcome: str
    duration_seconds: int
    notes: str = ""
    callback_at: datetime | None = None
    transcript: str = ""


def campaign_ends_at(campaign: Campaign | ConsoleState) -> datetime:
    """The end of the campaign's last day in the display time zone."""
    return datetime.combine(campaign.ends_on + timedelta(days=1), time(0), display_tz())


def _check_duration_and_notes(duration_seconds, notes: str) -> str:
    if not isinstance(duration_seconds, int) or not 0 <= duration_seconds <= MAX_DURATION_SECONDS:
        raise Invalid(_l("The duration must be between 0 and %(n)d seconds.", n=MAX_DURATION_SECONDS),
                      field="duration_seconds")
    notes = (notes or "").replace("\r\n", "\n")
    if "\x00" in notes:
        raise Invalid(_l("The notes contain characters that are not allowed."), field="notes")
    notes = _clean_text(notes)
    if len(notes) > MAX_NOTES_CHARS:
        raise Invalid(_l("At most %(n)d characters.", n=MAX_NOTES_CHARS), field="notes")
    return notes


MAX_TRANSCRIPT_CHARS = 20_000


def _check_transcript(text: str) -> str:
    text = (text or "").replace("\r\n", "\n")
    if "\x00" in text:
        raise Invalid(_l("The transcript contains characters that are not allowed."), field="transcript")
    if len(text) > MAX_TRANSCRIPT_CHARS:
        raise Invalid(_l("At most %(n)d characters.", n=MAX_TRANSCRIPT_CHARS), field="transcript")
    return text.strip()


def record_outcome(session: Session, *, agent_id: int, claim_id: int, contact_id: int, data: OutcomeInput,
                   now: datetime) -> int:
    """Record the call's outcome and move the contact on: done, a callback at its time, or never again.

    Returns the attempt's id. The contact's move is one UPDATE guarded by "held by this agent on this claim",
    so a second submission (double tap, refresh) finds nothing to move and is refused.
    """
    campaign = console_state(session, agent_id=agent_id, claim_id=claim_id, now=now)
    _outbound(campaign)
    if data.outcome not in {o.value for o in Outcome}:
        raise Invalid(_l("Choose an outcome."), field="outcome")
    notes = _check_duration_and_notes(data.duration_seconds, data.notes)
    transcript = _check_transcript(data.transcript)
    callback_at = None
    if data.outcome == Outcome.CALLBACK:
        if data.callback_at is None:
            raise Invalid(_l("Enter when to call back."), field="callback_at")
        if data.callback_at.tzinfo is None:
            raise Invalid(_l("Enter a valid date and time."), field="callback_at")
        callback_at = data.callback_at
        if callback_at <= now:
            raise Invalid(_l("The callback time must be in the future."), field="callback_at")
        if callback_at >= campaign_ends_at(campaign):
            raise Invalid(_l("The callback time must be before the campaign ends."), field="callback_at")
    hot = _hot()
    params = {"b_contact_id": contact_id, "b_campaign_id": campaign.campaign_id, "b_agent_id": agent_id,
              "b_claim_id": claim_id, "b_outcome": data.outcome, "b_now": now}
    if data.outcome in (Outcome.NO_ANSWER, Outcome.BUSY):
        moved = session.execute(hot.retry, {**params, "b_retry_at": now + RETRY_AFTER}).scalar()
    else:
        status = {Outcome.DO_NOT_CALL: ContactStatus.DO_NOT_CALL,
                  Outcome.CALLBACK: ContactStatus.CALLBACK}.get(data.outcome, ContactStatus.DONE)
        moved = session.execute(hot.outcome, {**params, "b_new_status": status.value,
                                              "b_new_callback_at": callback_at}).scalar()
    if moved is None:
        _held_by(session, contact_id=contact_id, campaign_id=campaign.campaign_id, agent_id=agent_id,
                 claim_id=claim_id)  # raises NotFound / NotAllowed with the reason
        raise Conflict(_l("This contact's outcome was already saved."), code="already_recorded")
    return session.execute(hot.attempt, {**params, "b_attempt_callback_at": callback_at,
                                         "b_duration_seconds": data.duration_seconds, "b_notes": notes,
                                         "b_transcript": transcript}).scalar_one()


def reveal_phone(session: Session, *, agent_id: int, claim_id: int, contact_id: int, ip: str | None,
                 vault: PhoneVault, now: datetime) -> str:
    """The full number, for the agent holding the contact during their checked-in shift; logged every time."""
    campaign = console_state(session, agent_id=agent_id, claim_id=claim_id, now=now)
    _outbound(campaign)
    contact = _held_by(session, contact_id=contact_id, campaign_id=campaign.campaign_id, agent_id=agent_id,
                       claim_id=claim_id)
    session.execute(insert(ContactReveal).values(contact_id=contact_id, claim_id=claim_id, agent_id=agent_id,
                                                 ip=(ip or None) and ip[:45], revealed_at=now))
    return vault.decrypt(contact.phone_ciphertext, campaign_id=campaign.campaign_id)


@dataclass(frozen=True)
class InboundInput:
    channel: str
    category: str
    resolution: str
    duration_seconds: int
    notes: str = ""
    transcript: str = ""
    customer_ref: str = ""  # optional: the customer's phone or the client's order/account number
    customer_ref_kind: str = "phone"  # CUSTOMER_REF_KINDS


CUSTOMER_REF_KINDS = ("phone", "reference")
MAX_CUSTOMER_REF_CHARS = 64
# Order and account numbers: letters, digits and the separators shops print in them (or an e-mail address).
_REFERENCE = re.compile(r"^[\w\-./#:@]+$")
_REFERENCE_SPACES = re.compile(r"\s+")
PHONE_REASONS = {
    phones.EMPTY: _l("Enter the customer's phone number or leave the reference empty."),
    phones.SCIENTIFIC: _l("This looks like a number Excel shortened (1.38E+10): type the full phone number."),
    phones.LETTERS: _l("A phone number has no letters. For an order or account number choose that kind."),
    phones.TOO_SHORT: _l("This phone number is too short."),
    phones.TOO_LONG: _l("This phone number is too long."),
    phones.INVALID: _l("This is not a valid phone number."),
}


def customer_ref_digest(vault: PhoneVault, kind: str, raw: str) -> bytes | None:
    """The keyed hash of a customer reference, or None when none was given; Invalid if it cannot be one.

    Phones are normalised to E.164 (the call-list rules, so 138-0013-8000 and +86 13800138000 match) and
    hashed exactly as the call lists hash them; order/account numbers are cleaned (full-width to ASCII,
    invisible characters and spaces removed) and upper-cased, and hashed with a "ref:" prefix so they can
    never equal a phone's hash (E.164 starts with "+"). Only the hash is kept: it cannot be turned back
    into the reference, and nothing shows whether a reference was seen before.
    """
    text = phones.clean(raw or "")
    if not text:
        return None
    if kind not in CUSTOMER_REF_KINDS:
        raise Invalid(_l("Choose what the customer reference is."), field="customer_ref_kind")
    if len(text) > MAX_CUSTOMER_REF_CHARS:
        raise Invalid(_l("The customer reference is too long (at most %(n)d characters).",
                         n=MAX_CUSTOMER_REF_CHARS), field="customer_ref")
    if kind == "phone":
        parsed = phones.normalise(text)
        if parsed.e164 is None:
            raise Invalid(PHONE_REASONS.get(parsed.reason, PHONE_REASONS[phones.INVALID]), field="customer_ref")
        return vault.digest(parsed.e164)
    reference = _REFERENCE_SPACES.sub("", text).upper()
    if not _REFERENCE.match(reference):
        raise Invalid(_l("An order or account number has only letters, digits and - _ . / # : @"),
                      field="customer_ref")
    return vault.digest("ref:" + reference)


def log_inbound_contact(session: Session, *, agent_id: int, claim_id: int, data: InboundInput,
                        now: datetime, vault: PhoneVault | None = None) -> InboundContact:
    """An inbound conversation the agent handled during their checked-in shift.

    With a customer reference (`data.customer_ref`) the `vault` hashes it; only the hash is stored.
    """
    campaign = console_state(session, agent_id=agent_id, claim_id=claim_id, now=now)
    if campaign.kind in OUTBOUND_KINDS:
        raise Conflict(_l("This is an outbound campaign: take contacts from the call list."), code="outbound")
    if data.channel not in {c.value for c in InboundChannel}:
        raise Invalid(_l("Choose a channel."), field="channel")
    if data.category not in {c.value for c in InboundCategory}:
        raise Invalid(_l("Choose a category."), field="category")
    if data.resolution not in {r.value for r in Resolution}:
        raise Invalid(_l("Choose resolved or escalated."), field="resolution")
    notes = _check_duration_and_notes(data.duration_seconds, data.notes)
    ref_hash = None
    if (data.customer_ref or "").strip():
        if vault is None:
            raise ValueError("a customer reference needs the contact vault to be hashed")
        ref_hash = customer_ref_digest(vault, data.customer_ref_kind, data.customer_ref)
    logged = InboundContact(campaign_id=campaign.campaign_id, claim_id=claim_id, agent_id=agent_id,
                            channel=data.channel, category=data.category, resolution=data.resolution,
                            duration_seconds=data.duration_seconds, notes=notes,
                            transcript=_check_transcript(data.transcript), customer_ref_hash=ref_hash,
                            created_at=now)
    session.add(logged)
    session.flush()
    return logged


def release_stale_assignments(session: Session, *, now: datetime) -> int:
    """Contacts held by claims that are no longer checked in (checked out, shift over) go back to the list."""
    stale_claims = select(Claim.id).where((Claim.status != ClaimStatus.CHECKED_IN) | (Claim.ends_at <= now))
    ids = list(session.scalars(
        select(Contact.id).where(Contact.status == ContactStatus.ASSIGNED,
                                 Contact.assigned_claim_id.in_(stale_claims)).limit(10_000)
    ))
    return _back_to_list(session, ids) if ids else 0
