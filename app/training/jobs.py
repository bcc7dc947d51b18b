"""Academy jobs: expiry reminders and closing quizzes left open past their deadline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.core.jobs import job
from app.training import services


@job("training.expiry_reminders", queue="low", every=3600)
def expiry_reminders_job(session: Session, now: datetime) -> None:
    """Notify members whose certification (and its tags) expires within REMINDER_DAYS; once per certification."""
    services.send_expiry_reminders(session, now=now)


@job("training.close_overdue_attempts", queue="low", every=900)
def close_overdue_attempts_job(session: Session, now: datetime) -> None:
    """Abandoned quizzes count as expired once their deadline has passed (the next start would do it too)."""
    services.close_overdue_attempts(session, now=now)
