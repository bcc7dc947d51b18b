"""Reads: article lists, searches and the console assistant's suggestions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from app.kb import ranking, search
from app.kb.models import KbArticle

LIST_LIMIT = 200
SUGGESTIONS = 5
QUERY_MAX = 500  # characters of typed notes used as a query


@dataclass(frozen=True)
class Suggestion:
    article_id: int
    title: str
    snippet: str
    kind: str
    is_platform: bool
    helped: int
    not_helped: int
    score: float


def campaign_articles(session: Session, campaign_id: int, *, limit: int = LIST_LIMIT) -> list[KbArticle]:
    """The campaign's live articles, most recently changed first."""
    return list(session.scalars(select(KbArticle).where(
        KbArticle.campaign_id == campaign_id, KbArticle.archived_at.is_(None))
        .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(limit)))


def platform_articles(session: Session, *, limit: int = LIST_LIMIT) -> list[KbArticle]:
    return list(session.scalars(select(KbArticle).where(
        KbArticle.campaign_id.is_(None), KbArticle.archived_at.is_(None))
        .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(limit)))


def search_articles(session: Session, query: str, *, campaign_id: int | None, limit: int = 20) -> list[Suggestion]:
    """Text search within one campaign's articles (or the platform's, campaign None), by relevance only."""
    words = search.query_tokens(query[:QUERY_MAX])
    hits = search.search_hits(session, words, campaign_ids=(campaign_id,) if campaign_id else (),
                              platform=campaign_id is None, limit=limit)
    return _suggestions([(h, h.score) for h in hits], words)


def suggest(session: Session, *, campaign_id: int, query: str, category: str | None = None,
            limit: int = SUGGESTIONS) -> list[Suggestion]:
    """The console's suggestions: the campaign's and the platform's articles matching the query, re-ranked by
    feedback and the contact's category (app/kb/ranking.py); without a query (or no match), the category's and
    then the most recent articles."""
    words = search.query_tokens((query or "")[:QUERY_MAX])
    hits = search.search_hits(session, words, campaign_ids=(campaign_id,), platform=True)
    if hits:
        return _suggestions(ranking.rank(hits, category=category, limit=limit), words)
    return fallback(session, campaign_id=campaign_id, category=category, limit=limit)


def fallback(session: Session, *, campaign_id: int, category: str | None, limit: int) -> list[Suggestion]:
    """Articles for the contact's category first, campaign before platform, most recent first."""
    order = [case((KbArticle.category == category, 0), else_=1)] if category else []
    rows = session.execute(select(KbArticle.id, KbArticle.title, KbArticle.body_markdown, KbArticle.kind,
                                  KbArticle.campaign_id).where(
        (KbArticle.campaign_id == campaign_id) | KbArticle.campaign_id.is_(None), KbArticle.archived_at.is_(None))
        .order_by(*order, KbArticle.campaign_id.is_(None), KbArticle.updated_at.desc(), KbArticle.id.desc())
        .limit(limit))
    return [Suggestion(r.id, r.title, ranking.snippet(r.body_markdown, ()), r.kind, r.campaign_id is None, 0, 0, 0.0)
            for r in rows]


def _suggestions(scored, words: list[str]) -> list[Suggestion]:
    return [Suggestion(h.article_id, h.title, ranking.snippet(h.body, words), h.kind, h.campaign_id is None,
                       h.helped, h.not_helped, round(score, 4)) for h, score in scored]


def console_suggestions(session: Session, *, campaign_id: int, contact=None, limit: int = SUGGESTIONS
                        ) -> list[Suggestion]:
    """What the console shows before the agent types (and without JavaScript): articles matching the current
    contact's uploaded note and columns, else the campaign's and platform's most relevant recent ones."""
    context = " ".join(str(v) for v in (getattr(contact, "extra", None) or {}).values())
    return suggest(session, campaign_id=campaign_id, query=context, limit=limit)
