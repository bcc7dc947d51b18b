"""Data the browser tests start from, made through the real services (as tests/factories.py does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from app.campaigns.models import Campaign
from app.contacts.models import CallList
from app.members.models import User
from tests.integration.contacts_support import csv_bytes, import_directly, phones
from tests.ledger_support import funded_campaign, shift_of

RATE_FEN, BONUS_FEN, SUCCESS_FEN = 3600, 50, 500
CALL_LIST = phones(5)


@dataclass(frozen=True)
class Outbound:
    campaign_id: int
    name: str
    owner_email: str
    shift_id: int
    starts_at: datetime
    ends_at: datetime
    call_list_id: int


def outbound_campaign(factory, session, upload_dir, lang: str, owner=None) -> Outbound:
    """A published, funded outbound campaign open to any certified agent: one 2-hour shift starting in 3 hours
    with 4 seats, ¥36/h + ¥0.50 a contact + ¥5 a success, and a five-contact call list."""
    campaign = funded_campaign(factory, session, owner=owner, shifts=((3, 2, 4),), rate_fen=RATE_FEN,
                               bonus_fen=BONUS_FEN)
    name = "双12 老客唤醒" if lang == "zh" else "Win-back calls"
    session.execute(update(Campaign).where(Campaign.id == campaign.id)
                    .values(kind="outbound_marketing", bonus_fen_per_success=SUCCESS_FEN, name=name))
    session.commit()
    owner = session.get(User, campaign.created_by_id)
    import_directly(session, campaign, owner, csv_bytes([f"客户{i},{p},老会员" for i, p in enumerate(CALL_LIST)]),
                    upload_dir)
    shift = shift_of(session, campaign)
    found = Outbound(campaign.id, name, owner.email, shift.id, shift.starts_at, shift.ends_at,
                     session.scalar(select(CallList.id).where(CallList.campaign_id == campaign.id)))
    session.commit()
    return found
