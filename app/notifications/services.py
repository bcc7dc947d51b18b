"""Creating notifications and sending their email copies."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import force_locale, get_locale, gettext
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.core.jobs import enqueue, job
from app.members.models import User
from app.notifications.models import Notification


def notify(session: Session, *, user_ids: list[int], kind: str, payload: dict, now: datetime) -> None:
    """One notification per member, written set-based; the email copies go out in a job."""
    notify_each(session, kind=kind, now=now, items=[(uid, payload) for uid in user_ids])


def notify_each(session: Session, *, kind: str, items: list[tuple[int, dict]], now: datetime) -> None:
    """Notifications of one kind with a payload per member, in one INSERT; one email job for all."""
    if not items:
        return
    session.execute(
        insert(Notification),
        [{"user_id": uid, "kind": kind, "payload": payload, "created_at": now} for uid, payload in items],
    )
    enqueue(session, "notifications.send_emails")


def render(kind: str, payload: dict) -> str:
    """The notification's text in the current locale."""
    shift = payload.get("shift", "")
    campaign = payload.get("campaign", "")
    # Academy notifications carry the course title in both languages.
    course = payload.get("course_en" if str(get_locale() or "").startswith("en") else "course_zh") or \
        payload.get("course", "")
    messages = {
        "claim.confirmed": gettext("You have a seat on %(campaign)s, %(shift)s.", campaign=campaign, shift=shift),
        "claim.cancelled_by_client": gettext(
            "%(campaign)s cancelled your shift %(shift)s. The seat is released; nothing counts against you.",
            campaign=campaign, shift=shift),
        "waitlist.promoted": gettext(
            "A seat freed up: you now hold %(campaign)s, %(shift)s.", campaign=campaign, shift=shift),
        "waitlist.skipped": gettext(
            "A seat on %(campaign)s, %(shift)s freed up, but you are no longer eligible for it.",
            campaign=campaign, shift=shift),
        "qa.flag_confirmed": gettext(
            "A quality check on %(campaign)s was confirmed (%(detail)s). It lowers your QA score; the Academy "
            "course %(course)s helps.", campaign=campaign, detail=payload.get("detail", ""),
            course=payload.get("course") or "—"),
        "rating.tier_changed": gettext("Your tier changed after the rating recompute. See My rating for why."),
        "member.verified": gettext("Your account is verified. Take the required Academy courses to start claiming."),
        "academy.expiring": gettext(
            "Your %(course)s certification and its tags expire on %(date)s. Take the short renewal quiz in the "
            "Academy to keep them.", course=course, date=payload.get("expires_on", "")),
        "academy.certified": gettext("You passed the required Academy courses and are now certified."),
        "academy.review_approved": gettext(
            "Your mock call for %(course)s was approved: the course's tags are yours.", course=course),
        "academy.review_rejected": gettext(
            "Your mock call for %(course)s was not approved: %(reason)s. You can upload a new recording.",
            course=course, reason=payload.get("reason", "")),
    }
    return messages.get(kind, kind)


def unread_count(session: Session, user_id: int) -> int:
    from sqlalchemy import func

    return session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0


def list_for(session: Session, user_id: int, limit: int = 50) -> list[Notification]:
    return list(session.scalars(
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc()).limit(limit)
    ))


def mark_all_read(session: Session, user_id: int, now: datetime) -> None:
    session.execute(update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
                    .values(read_at=now))


@job("notifications.send_emails", queue="low", every=300)
def send_emails_job(session: Session, now: datetime, batch: int = 500) -> None:
    """Email every notification not yet emailed (SMTP when configured, the log otherwise)."""
    rows = session.execute(
        select(Notification.id, Notification.kind, Notification.payload, User.email, User.locale)
        .join(User, User.id == Notification.user_id)
        .where(Notification.emailed_at.is_(None))
        .order_by(Notification.id)
        .limit(batch)
    ).all()
    if not rows:
        return
    from app.notifications.mail import mailer_from_config

    sent: list[int] = []
    try:
        with mailer_from_config(current_app.config) as mailer:
            for row in rows:
                with force_locale(row.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
                    text = render(row.kind, row.payload or {})
                    subject = gettext("Surgeline: %(text)s", text=text[:60])
                mailer.send(row.email, subject, text)
                sent.append(row.id)
    finally:
        # What went out is marked even when the server fails part-way, so a retry does not send it twice.
        if sent:
            session.execute(update(Notification).where(Notification.id.in_(sent), Notification.emailed_at.is_(None))
                            .values(emailed_at=now))
            session.commit()
