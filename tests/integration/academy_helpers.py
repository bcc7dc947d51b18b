"""Helpers for the Academy tests: take a quiz through the real services, answering right or wrong."""

from __future__ import annotations

import random

from app.core import clock
from app.training import current_catalogue, services


def catalogue():
    return current_catalogue()


def wrong_answers(course, attempt) -> dict[str, list[str]]:
    """One wrong option for every drawn question."""
    answers = {}
    for drawn in attempt.questions:
        question = course.question(drawn["question_id"])
        wrong = [o for o in drawn["option_order"] if o not in question.correct_option_ids]
        answers[question.id] = [wrong[0]]
    return answers


def take(session, agent, slug, *, right: bool = True, renewal: bool = False, now=None, seed: int | None = 7):
    """Start and submit one attempt; returns the SubmitOutcome (committed)."""
    now = now or clock.now()
    course = catalogue().course(slug)
    attempt = services.start_attempt(session, agent_id=agent.id, slug=slug, now=now, renewal=renewal,
                                     rng=random.Random(seed) if seed is not None else None)
    session.commit()
    answers = services.correct_answers(course, attempt) if right else wrong_answers(course, attempt)
    outcome = services.submit_attempt(session, agent_id=agent.id, attempt_id=attempt.id, answers=answers, now=now)
    session.commit()
    return outcome


def pass_required(session, agent, now=None) -> None:
    for slug in catalogue().required_slugs:
        take(session, agent, slug, now=now)
