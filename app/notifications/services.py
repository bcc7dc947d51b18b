"""Creating notifications, the notification centre's reads and marks, email preferences and the email job.

Every kind a member can receive is listed in KINDS with its email category; docs/notifications.md says
when each is sent. Notices that a periodic job sends (shift reminders) are made exactly-once by a
NotificationMarker row with a unique (kind, ref_id): the marker and the notice commit together.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale, get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from app.core.db import UTCDateTime
from app.core.errors import Invalid, NotFound
from app.core.jobs import enqueue, job
from app.core.money import format_fen
from app.core.timefmt import local_range
from app.members.models import User
from app.notifications.models import Notification, NotificationMarker, NotificationPreference

# Email categories a member can switch off (in-app notices are always kept).
CATEGORIES: dict[str, object] = {
    "shifts": _l("Seats, reminders and attendance"),
    "pay": _l("Pay and payouts"),
    "quality": _l("Quality checks and rating"),
    "academy": _l("Verification and Academy"),
}

# kind -> (email category, endpoint of the page the notice links to)
KINDS: dict[str, tuple[str, str]] = {
    "claim.confirmed": ("shifts", "claims.my_shifts"),
    "claim.cancelled_by_client": ("shifts", "claims.my_shifts"),
    "claim.no_show": ("shifts", "claims.my_shifts"),
    "waitlist.promoted": ("shifts", "claims.my_shifts"),
    "waitlist.skipped": ("shifts", "claims.board"),
    "shift.reminder_day": ("shifts", "claims.my_shifts"),
    "shift.reminder_hour": ("shifts", "claims.my_shifts"),
    "pay.credited": ("pay", "ledger.earnings"),
    "payout.sent": ("pay", "ledger.earnings"),
    "payout.rejected": ("pay", "ledger.earnings"),
    "qa.flag_confirmed": ("quality", "quality.my_rating"),
    "rating.tier_changed": ("quality", "quality.my_rating"),
    "member.verified": ("academy", "training.index"),
    "academy.certified": ("academy", "training.index"),
    "academy.expiring": ("academy", "training.index"),
    "academy.review_approved": ("academy", "training.index"),
    "academy.review_rejected": ("academy", "training.index"),
}

PAGE_SIZE = 30
REMINDERS = (
    # kind, starts after now + lo, starts by now + hi
    ("shift.reminder_hour", timedelta(0), timedelta(hours=1)),
    ("shift.reminder_day", timedelta(hours=1), timedelta(hours=24)),
)


def category_of(kind: str) -> str:
    return KINDS.get(kind, ("other", ""))[0]


def link_endpoint(kind: str) -> str | None:
    return KINDS.get(kind, ("", None))[1] or None


def notify(session: Session, *, user_ids: list[int], kind: str, payload: dict, now: datetime) -> None:
    """One notification per member, written set-based; the email copies go out in a job."""
    notify_each(session, kind=kind, now=now, items=[(uid, payload) for uid in user_ids])


def notify_each(session: Session, *, kind: str, items: list[tuple[int, dict]], now: datetime,
                email_now: bool = True) -> None:
    """Notifications of one kind with a payload per member, in one INSERT; one email job for all.

    `email_now=False` leaves the email copies to the periodic run of the email job (used on hot paths,
    where one more outbox row per request costs more than a few minutes' delay of an email).
    """
    if not items:
        return
    session.execute(
        insert(Notification),
        [{"user_id": uid, "kind": kind, "payload": payload, "created_at": now} for uid, payload in items],
    )
    if email_now:
        enqueue(session, "notifications.send_emails")


def render(kind: str, payload: dict) -> str:
    """The notification's text in the current locale."""
    shift = payload.get("shift", "")
    campaign = payload.get("campaign", "")
    english = str(get_locale() or "").startswith("en")
    # Academy notifications carry the course title in both languages.
    course = payload.get("course_en" if english else "course_zh") or payload.get("course", "")
    amount = format_fen(payload.get("amount_fen") or 0)
    messages = {
        "claim.confirmed": lambda: gettext("You have a seat on %(campaign)s, %(shift)s.",
                                           campaign=campaign, shift=shift),
        "claim.cancelled_by_client": lambda: gettext(
            "%(campaign)s cancelled your shift %(shift)s. The seat is released; nothing counts against you.",
            campaign=campaign, shift=shift),
        "claim.no_show": lambda: gettext(
            "You did not check in to %(campaign)s, %(shift)s: it is recorded as a no-show, which lowers your "
            "reliability.", campaign=campaign, shift=shift),
        "waitlist.promoted": lambda: gettext(
            "A seat freed up: you now hold %(campaign)s, %(shift)s.", campaign=campaign, shift=shift),
        "waitlist.skipped": lambda: gettext(
            "A seat on %(campaign)s, %(shift)s freed up, but you are no longer eligible for it.",
            campaign=campaign, shift=shift),
        "shift.reminder_day": lambda: gettext(
            "Reminder: your shift on %(campaign)s, %(shift)s, starts within a day.", campaign=campaign, shift=shift),
        "shift.reminder_hour": lambda: gettext(
            "Your shift on %(campaign)s, %(shift)s, starts within the hour. Check in from My shifts.",
            campaign=campaign, shift=shift),
        "pay.credited": lambda: gettext(
            "Your pay for %(campaign)s, %(shift)s is credited: ¥%(amount)s.", campaign=campaign, shift=shift,
            amount=amount),
        "payout.sent": lambda: gettext("Your payout of ¥%(amount)s was approved and sent.", amount=amount),
        "payout.rejected": lambda: gettext(
            "Your payout request of ¥%(amount)s was not approved; the money is back in your earnings.",
            amount=amount),
        "qa.flag_confirmed": lambda: gettext(
            "A quality check on %(campaign)s was confirmed (%(detail)s). It lowers your QA score; the Academy "
            "course %(course)s helps.", campaign=campaign, detail=payload.get("detail", ""),
            course=payload.get("course") or "—"),
        "rating.tier_changed": lambda: gettext("Your tier changed after the rating recompute. See My rating for why."),
        "member.verified": lambda: gettext(
            "Your account is verified. Take the required Academy courses to start claiming."),
        "academy.expiring": lambda: gettext(
            "Your %(course)s certification and its tags expire on %(date)s. Take the short renewal quiz in the "
            "Academy to keep them.", course=course, date=payload.get("expires_on", "")),
        "academy.certified": lambda: gettext("You passed the required Academy courses and are now certified."),
        "academy.review_approved": lambda: gettext(
            "Your mock call for %(course)s was approved: the course's tags are yours.", course=course),
        "academy.review_rejected": lambda: gettext(
            "Your mock call for %(course)s was not approved: %(reason)s. You can upload a new recording.",
            course=course, reason=payload.get("reason", "")),
    }
    message = messages.get(kind)
    return message() if message else kind


# -- reads and marks (the notification centre) -------------------------------------------------------------------

def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0


def list_for(session: Session, user_id: int, limit: int = 50) -> list[Notification]:
    return list(session.scalars(
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc()).limit(limit)
    ))


def list_page(session: Session, user_id: int, *, before_id: int | None = None, unread_only: bool = False,
              limit: int = PAGE_SIZE) -> tuple[list[Notification], int | None]:
    """Newest first, `limit` at a time; returns the page and the cursor of the next (None at the end)."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id:
        query = query.where(Notification.id < before_id)
    rows = list(session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


def get_own(session: Session, *, user_id: int, notification_id: int) -> Notification:
    """The member's notification; another member's (or none) is NotFound."""
    item = session.get(Notification, notification_id)
    if item is None or item.user_id != user_id:
        raise NotFound(_l("No such notification."))
    return item


def mark_read(session: Session, *, user_id: int, notification_id: int, now: datetime) -> Notification:
    item = get_own(session, user_id=user_id, notification_id=notification_id)
    session.execute(update(Notification).where(Notification.id == item.id, Notification.read_at.is_(None))
                    .values(read_at=now).execution_options(synchronize_session=False))
    session.refresh(item)
    return item


def mark_all_read(session: Session, user_id: int, now: datetime) -> int:
    return session.execute(update(Notification)
                           .where(Notification.user_id == user_id, Notification.read_at.is_(None))
                           .values(read_at=now).execution_options(synchronize_session=False)).rowcount


# -- email preferences --------------------------------------------------------------------------------------------

def get_preferences(session: Session, user_id: int) -> tuple[bool, set[str]]:
    """(email on at all, categories switched off); no row means everything on."""
    pref = session.get(NotificationPreference, user_id)
    if pref is None:
        return True, set()
    return bool(pref.email_enabled), set(pref.muted_categories or [])


def save_preferences(session: Session, *, user_id: int, email_enabled: bool, muted: set[str] | list[str],
                     now: datetime) -> NotificationPreference:
    muted = set(muted)
    unknown = muted - set(CATEGORIES)
    if unknown:
        raise Invalid(_l("Unknown email category."), field="categories")
    pref = session.get(NotificationPreference, user_id)
    if pref is None:
        pref = NotificationPreference(user_id=user_id)
        session.add(pref)
    pref.email_enabled = bool(email_enabled)
    pref.muted_categories = sorted(muted)
    pref.updated_at = now
    session.flush()
    return pref


def wants_email(kind: str, email_enabled: bool | None, muted: list | None) -> bool:
    if email_enabled is False:
        return False
    return category_of(kind) not in set(muted or [])


# -- notices sent from other domains (small hooks so their services stay short) ---------------------------------

def claim_confirmed(session: Session, *, agent_id: int, claim_id: int, shift_id: int, campaign: str,
                    starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """The claim path: one INSERT, no outbox row (the periodic email run sends the copy)."""
    notify_each(session, kind="claim.confirmed", now=now, email_now=False, items=[(agent_id, {
        "shift": local_range(starts_at, ends_at), "campaign": campaign, "shift_id": shift_id, "claim_id": claim_id})])


def _claim_labels(session: Session, claim_ids: list[int]) -> dict[int, dict]:
    from app.campaigns.models import Campaign
    from app.claims.models import Claim

    labels: dict[int, dict] = {}
    for start in range(0, len(claim_ids), 1000):
        chunk = claim_ids[start:start + 1000]
        for row in session.execute(
            select(Claim.id, Claim.agent_id, Claim.shift_id, Claim.starts_at, Claim.ends_at, Campaign.name)
            .join(Campaign, Campaign.id == Claim.campaign_id).where(Claim.id.in_(chunk))
        ):
            labels[row.id] = {"agent_id": row.agent_id, "shift": local_range(row.starts_at, row.ends_at),
                              "campaign": row.name, "shift_id": row.shift_id, "claim_id": row.id}
    return labels


def claims_settled(session: Session, *, paid: list[tuple[int, int]], now: datetime) -> None:
    """Settlement: 'pay credited' to each agent whose claim paid something; `paid` is (claim_id, pay_fen)."""
    paid = [(claim_id, fen) for claim_id, fen in paid if fen > 0]
    if not paid:
        return
    labels = _claim_labels(session, [claim_id for claim_id, _fen in paid])
    notify_each(session, kind="pay.credited", now=now, items=[
        (labels[claim_id]["agent_id"], {**_without_agent(labels[claim_id]), "amount_fen": fen})
        for claim_id, fen in paid])


def no_shows_recorded(session: Session, *, claim_ids: list[int], now: datetime) -> None:
    """The no-show sweep: tell each agent their unworked seat was recorded as a no-show."""
    if not claim_ids:
        return
    labels = _claim_labels(session, list(claim_ids))
    notify_each(session, kind="claim.no_show", now=now,
                items=[(label["agent_id"], _without_agent(label)) for label in labels.values()])


def payout_decided(session: Session, *, agent_id: int, payout_id: int, amount_fen: int, sent: bool,
                   now: datetime) -> None:
    notify(session, user_ids=[agent_id], kind="payout.sent" if sent else "payout.rejected", now=now,
           payload={"payout_id": payout_id, "amount_fen": amount_fen})


def _without_agent(label: dict) -> dict:
    return {k: v for k, v in label.items() if k != "agent_id"}


# -- shift reminders ----------------------------------------------------------------------------------------------

def _insert_markers(session: Session, candidates) -> list[int]:
    """INSERT … SELECT markers, skipping those that exist (a concurrent run waits, then skips): the new ref ids."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = (dialect_insert(NotificationMarker)
                 .from_select(["ref_id", "kind", "created_at"], candidates)
                 .on_conflict_do_nothing(index_elements=["kind", "ref_id"])
                 .returning(NotificationMarker.ref_id))
    return list(session.execute(statement).scalars())


def remind_shifts(session: Session, *, now: datetime, limit: int = 5000) -> int:
    """Remind agents of claimed shifts starting within the hour, and ~a day before; once per claim and kind."""
    from app.claims.models import Claim, ClaimStatus

    sent = 0
    for kind, lo, hi in REMINDERS:
        marked = select(NotificationMarker.id).where(NotificationMarker.kind == kind,
                                                     NotificationMarker.ref_id == Claim.id)
        candidates = (
            select(Claim.id, literal(kind), literal(now, UTCDateTime))
            .where(Claim.status == ClaimStatus.CLAIMED, Claim.starts_at > now + lo, Claim.starts_at <= now + hi,
                   ~marked.exists())
            .order_by(Claim.id).limit(limit)
        )
        if kind == "shift.reminder_day":
            # A seat taken in the last hour was just confirmed: no "tomorrow" reminder on top of it.
            candidates = candidates.where(Claim.claimed_at <= now - timedelta(hours=1))
        claim_ids = _insert_markers(session, candidates)
        if claim_ids:
            labels = _claim_labels(session, claim_ids)
            notify_each(session, kind=kind, now=now,
                        items=[(label["agent_id"], _without_agent(label)) for label in labels.values()])
            sent += len(claim_ids)
    return sent


@job("notifications.remind_shifts", queue="default", every=300)
def remind_shifts_job(session: Session, now: datetime) -> None:
    """Every 5 minutes: the hour and day reminders of claimed shifts (exactly once each)."""
    remind_shifts(session, now=now)


# -- email copies -------------------------------------------------------------------------------------------------

@job("notifications.send_emails", queue="low", every=300)
def send_emails_job(session: Session, now: datetime, batch: int = 500) -> None:
    """Email every notification not yet emailed (SMTP when configured, the log otherwise).

    A notice whose member switched email off (globally or for its category) is marked handled without a mail.
    """
    rows = session.execute(
        select(Notification.id, Notification.kind, Notification.payload, User.email, User.locale,
               NotificationPreference.email_enabled, NotificationPreference.muted_categories)
        .join(User, User.id == Notification.user_id)
        .outerjoin(NotificationPreference, NotificationPreference.user_id == Notification.user_id)
        .where(Notification.emailed_at.is_(None))
        .order_by(Notification.id)
        .limit(batch)
    ).all()
    if not rows:
        return
    from app.notifications.mail import mailer_from_config

    handled = [row.id for row in rows if not wants_email(row.kind, row.email_enabled, row.muted_categories)]
    to_send = [row for row in rows if wants_email(row.kind, row.email_enabled, row.muted_categories)]
    try:
        if to_send:
            with mailer_from_config(current_app.config) as mailer:
                for row in to_send:
                    with force_locale(row.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
                        text = render(row.kind, row.payload or {})
                        subject = gettext("Surgeline: %(text)s", text=text[:60])
                    mailer.send(row.email, subject, text)
                    handled.append(row.id)
    finally:
        # What went out is marked even when the server fails part-way, so a retry does not send it twice.
        if handled:
            session.execute(update(Notification).where(Notification.id.in_(handled),
                                                       Notification.emailed_at.is_(None))
                            .values(emailed_at=now))
            session.commit()
