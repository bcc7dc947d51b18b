"""Shared helpers for the contacts tests: upload dirs, outbound campaigns, checked-in claims, CSV bytes."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.claims import services as claims
from app.claims.models import Claim
from app.contacts import services
from app.contacts.crypto import current_vault
from app.contacts.models import CallList, Contact
from app.core import clock
from app.core.models import OutboxJob

HEADER = "姓名,手机,备注\n"


@pytest.fixture(name="uploads")
def uploads_fixture(app, tmp_path, monkeypatch):
    """Uploads go to a temp dir per test."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def outbound_campaign(factory, owner=None, *, kind="outbound_marketing", shifts=((1, 4, 50),)):
    return factory.campaign(owner, tags=(), kind=kind, shifts=list(shifts), name="老客唤醒")


def check_in(session, claim_id: int, at=None) -> None:
    """Attendance belongs to app/work; the console only needs the claim's status to be checked in."""
    values = {"status": "checked_in"}
    if hasattr(Claim, "checked_in_at"):
        values["checked_in_at"] = at or clock.now()
    session.execute(update(Claim).where(Claim.id == claim_id).values(**values))
    session.commit()


def checked_in_claims(session, factory, campaign, agents) -> list[int]:
    """Each agent grabs a seat on the campaign's first shift; time moves into the shift; all check in."""
    shift = factory.shifts(campaign)[0]
    ids = []
    for agent in agents:
        ids.append(claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now()).id)
        session.commit()
    clock.freeze(shift.starts_at + timedelta(minutes=5))
    for claim_id in ids:
        check_in(session, claim_id)
    return ids


def csv_bytes(rows: list[str], *, header: str = HEADER, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    return (header + newline.join(rows) + (newline if rows else "")).encode(encoding)


def phones(n: int, start: int = 0) -> list[str]:
    """n distinct valid mainland mobile numbers."""
    return [f"139{start + i:08d}" for i in range(n)]


def upload(browser, campaign_id: int, data: bytes, filename: str = "客户名单.csv"):
    return browser.post(f"/client/campaigns/{campaign_id}/call-lists",
                        {"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def import_directly(session, campaign, owner, data: bytes, uploads_dir, *, filename="list.csv", max_rows=1_000_000,
                    batch_size=services.BATCH_SIZE, locale="en") -> CallList:
    """Upload and import through the services (no HTTP), as the job does."""
    call_list = services.upload_call_list(session, user_id=owner.id, campaign=campaign, stream=io.BytesIO(data),
                                          filename=filename, upload_dir=uploads_dir, max_bytes=64 * 1024 * 1024,
                                          locale=locale, now=clock.now())
    session.commit()
    session.execute(update(OutboxJob).where(OutboxJob.name == "contacts.import_call_list")
                    .values(delivered_at=clock.now(), completed_at=clock.now()))
    session.commit()
    services.import_call_list(session, call_list_id=call_list.id, vault=current_vault(), upload_dir=uploads_dir,
                              max_rows=max_rows, now=clock.now(), batch_size=batch_size)
    session.commit()
    return session.get(CallList, call_list.id)


def latest_list(session) -> CallList:
    session.rollback()
    return session.scalars(select(CallList).order_by(CallList.id.desc())).first()


def contacts_of(session, campaign_id: int) -> list[Contact]:
    session.rollback()
    return list(session.scalars(select(Contact).where(Contact.campaign_id == campaign_id).order_by(Contact.id)))


def phone_of(contact: Contact) -> str:
    return current_vault().decrypt(contact.phone_ciphertext, campaign_id=contact.campaign_id)


def error_rows(uploads_dir, call_list: CallList) -> list[list[str]]:
    import csv

    path = services.errors_path(uploads_dir, call_list)
    if not path.exists():
        return []
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))[1:]


def assert_accounted(call_list: CallList, data_rows: int | None = None) -> None:
    """Nothing silently lost: rows in = accepted + rejected."""
    assert call_list.rows_processed == call_list.rows_accepted + call_list.rows_rejected
    if data_rows is not None:
        assert call_list.rows_processed == data_rows, (call_list.rows_processed, data_rows)
