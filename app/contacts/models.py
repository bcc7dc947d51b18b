"""Contacts: call lists and their customers (outbound), outcomes, inbound logs and the phone-reveal log."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.campaigns.models import Campaign
from app.core.db import UTCDateTime, db


class CallListStatus(enum.StrEnum):
    QUEUED = "queued"
    IMPORTING = "importing"
    DONE = "done"
    FAILED = "failed"


class CallList(db.Model):
    """One uploaded customer file of an outbound campaign, and how its import went.

    The counters move batch by batch in the importer's transactions; `records_read` and `error_bytes`
    say where a resumed import picks up. A CHECK keeps every processed row accounted for.
    """

    __tablename__ = "call_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))  # as the client named it; shown, never used as a path
    stored_name: Mapped[str] = mapped_column(String(64))  # <uuid>.csv under UPLOAD_DIR/call_lists
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    encoding: Mapped[str] = mapped_column(String(20))
    delimiter: Mapped[str] = mapped_column(String(4))
    locale: Mapped[str] = mapped_column(String(5))  # the uploader's language, for the error file
    status: Mapped[str] = mapped_column(String(12), default=CallListStatus.QUEUED)
    rows_processed: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_blank: Mapped[int] = mapped_column(Integer, default=0)
    records_read: Mapped[int] = mapped_column(Integer, default=0)
    error_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    files_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('queued','importing','done','failed')", name="status_known"),
        # Nothing silently lost: every row read is either accepted or rejected with a reason.
        CheckConstraint("rows_processed = rows_accepted + rows_rejected", name="rows_accounted"),
        CheckConstraint("rows_accepted >= 0 AND rows_rejected >= 0 AND rows_blank >= 0", name="counts_positive"),
        Index("ix_call_lists_campaign_id_created_at", "campaign_id", "created_at"),
    )

    @property
    def active(self) -> bool:
        return self.status in (CallListStatus.QUEUED, CallListStatus.IMPORTING)


class ContactStatus(enum.StrEnum):
    NEW = "new"  # waiting to be handed out
    ASSIGNED = "assigned"  # held by one agent's console
    CALLBACK = "callback"  # comes back to the list at callback_at
    DONE = "done"  # a final outcome
    DO_NOT_CALL = "do_not_call"  # never handed out again


class Outcome(enum.StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"
    CALLBACK = "callback"
    CONVERTED = "converted"
    REACTIVATED = "reactivated"
    REFUSED = "refused"
    DO_NOT_CALL = "do_not_call"


SUCCESS_OUTCOMES = frozenset({Outcome.CONVERTED, Outcome.REACTIVATED})
# Outcomes with the customer on the line (the contact rate's numerator).
REACHED_OUTCOMES = frozenset({Outcome.REACHED, Outcome.CALLBACK, Outcome.CONVERTED, Outcome.REACTIVATED,
                              Outcome.REFUSED, Outcome.DO_NOT_CALL})

_OUTCOMES_SQL = ",".join(f"'{o.value}'" for o in Outcome)


class Contact(db.Model):
    """One customer on a call list. The phone number is stored only encrypted and as a keyed hash."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    call_list_id: Mapped[int] = mapped_column(ForeignKey("call_lists.id"))
    source_row: Mapped[int] = mapped_column(Integer)  # row number in the uploaded file
    name: Mapped[str] = mapped_column(String(120), default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)  # the note and any other columns, as uploaded
    phone_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    phone_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[str] = mapped_column(String(12), default=ContactStatus.NEW)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("status IN ('new','assigned','callback','done','do_not_call')", name="status_known"),
        CheckConstraint(
            "(status = 'assigned') = (assigned_claim_id IS NOT NULL AND assigned_agent_id IS NOT NULL)",
            name="assignment_matches_status",
        ),
        CheckConstraint("status <> 'callback' OR callback_at IS NOT NULL", name="callback_has_time"),
        CheckConstraint(f"last_outcome IS NULL OR last_outcome IN ({_OUTCOMES_SQL})", name="last_outcome_known"),
        # One entry per number per campaign: duplicates in a list and across lists are refused here.
        UniqueConstraint("campaign_id", "phone_hash", name="uq_contacts_campaign_phone"),
        # An agent holds at most one contact at a time.
        Index("uq_contacts_assigned_agent", "assigned_agent_id", unique=True,
              sqlite_where=text("status = 'assigned'"), postgresql_where=text("status = 'assigned'")),
        # Handing out: the next new contact by id, or the earliest due callback.
        Index("ix_contacts_new", "campaign_id", "id",
              sqlite_where=text("status = 'new'"), postgresql_where=text("status = 'new'")),
        Index("ix_contacts_callback_due", "campaign_id", "callback_at",
              sqlite_where=text("status = 'callback'"), postgresql_where=text("status = 'callback'")),
        Index("ix_contacts_campaign_id_id", "campaign_id", "id"),
    )


class ContactAttempt(db.Model):
    """One call to a contact and its outcome (append-only; the contact's status follows from it)."""

    __tablename__ = "contact_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The call's transcript when the phone system provides one (pasted by the agent); QA reads it too.
    transcript: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(f"outcome IN ({_OUTCOMES_SQL})", name="outcome_known"),
        CheckConstraint("duration_seconds BETWEEN 0 AND 86400", name="duration_range"),
        CheckConstraint("outcome <> 'callback' OR callback_at IS NOT NULL", name="callback_has_time"),
        Index("ix_contact_attempts_claim_id", "claim_id"),
        Index("ix_contact_attempts_contact_id", "contact_id"),
        Index("ix_contact_attempts_campaign_id_created_at", "campaign_id", "created_at"),
    )


class InboundChannel(enum.StrEnum):
    PHONE = "phone"
    CHAT = "chat"
    APP = "app"


class InboundCategory(enum.StrEnum):
    ORDER = "order"
    DELIVERY = "delivery"
    RETURN = "return"
    PRODUCT = "product"
    ACCOUNT = "account"
    COMPLAINT = "complaint"
    OTHER = "other"


class Resolution(enum.StrEnum):
    RESOLVED = "resolved"
    ESCALATED = "escalated"


class InboundContact(db.Model):
    """One conversation an agent handled on an inbound campaign, logged from the console."""

    __tablename__ = "inbound_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20))
    resolution: Mapped[str] = mapped_column(String(10))
    duration_seconds: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The call's transcript when the phone system provides one (pasted by the agent); QA reads it too.
    transcript: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Optional customer reference (phone or order/account number) as a keyed HMAC of its normalised form, never
    # the value itself: it only tells repeat contacts of the same customer apart (first-contact resolution).
    customer_ref_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("channel IN ('phone','chat','app')", name="channel_known"),
        CheckConstraint(
            "category IN ('order','delivery','return','product','account','complaint','other')", name="category_known"
        ),
        CheckConstraint("resolution IN ('resolved','escalated')", name="resolution_known"),
        CheckConstraint("duration_seconds BETWEEN 0 AND 86400", name="duration_range"),
        Index("ix_inbound_contacts_claim_id", "claim_id"),
        Index("ix_inbound_contacts_campaign_id_created_at", "campaign_id", "created_at"),
        Index("ix_inbound_contacts_campaign_id_customer_ref_hash_created_at", "campaign_id", "customer_ref_hash",
              "created_at"),
    )


class ContactReveal(db.Model):
    """Access log: an agent saw a contact's full number (to dial it)."""

    __tablename__ = "contact_reveals"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ip: Mapped[str | None] = mapped_column(String(45))
    revealed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_contact_reveals_contact_id", "contact_id"),
        Index("ix_contact_reveals_agent_id_revealed_at", "agent_id", "revealed_at"),
    )
