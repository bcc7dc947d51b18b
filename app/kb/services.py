"""Writing articles (keeping the search index in step, same transaction) and recording agents' feedback."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign
from app.claims.models import ACTIVE_CLAIM_STATUSES, Claim
from app.contacts.models import Contact, InboundCategory
from app.core.errors import Invalid, NotAllowed, NotFound
from app.core.text import clean_text
from app.core.timefmt import local
from app.kb import search
from app.kb.models import ArticleKind, KbArticle, KbFeedback
from app.members.models import User

TITLE_MAX = 200
BODY_MAX = 20_000
TAGS_MAX = 300
TAG_MAX = 30
TAGS_COUNT_MAX = 12
_TAG_SPLIT = re.compile(r"[\s,，、;；]+")


@dataclass(frozen=True)
class ArticleInput:
    kind: str
    title: str
    body: str
    tags: str = ""
    category: str | None = None


@dataclass(frozen=True)
class CleanArticle:
    kind: str
    title: str
    body: str
    tags: str
    category: str | None


def clean_article(data: ArticleInput) -> CleanArticle:
    """Validated, cleaned fields (Invalid names the offending field)."""
    if data.kind not in {k.value for k in ArticleKind}:
        raise Invalid(_l("Choose a kind of article."), field="kind")
    title = clean_text(data.title, field="title", max_len=TITLE_MAX, single_line=True)
    body = clean_text(data.body, field="body", max_len=BODY_MAX)
    tags = ""
    if (data.tags or "").strip():
        raw = clean_text(data.tags, field="tags", max_len=TAGS_MAX, single_line=True)
        seen: dict[str, None] = {}
        for tag in _TAG_SPLIT.split(raw):
            tag = tag.strip().lstrip("#")
            if not tag:
                continue
            if len(tag) > TAG_MAX:
                raise Invalid(_l("Each tag is at most %(n)d characters.", n=TAG_MAX), field="tags")
            seen.setdefault(tag, None)
        if len(seen) > TAGS_COUNT_MAX:
            raise Invalid(_l("At most %(n)d tags.", n=TAGS_COUNT_MAX), field="tags")
        tags = " ".join(seen)
    category = data.category or None
    if category is not None and category not in {c.value for c in InboundCategory}:
        raise Invalid(_l("Choose a category from the list."), field="category")
    return CleanArticle(data.kind, title, body, tags, category)


def _index(session: Session, article: KbArticle) -> None:
    session.flush()
    search.index_article(session, article_id=article.id, campaign_id=article.campaign_id, title=article.title,
                         tags=article.tags, body=article.body_markdown)


def create_article(session: Session, *, author: User, campaign: Campaign | None, data: ArticleInput,
                   now: datetime) -> KbArticle:
    """A campaign article (by a user of the campaign's organisation) or a platform article (campaign None, admin)."""
    if campaign is None:
        if author.role != "admin":
            raise NotAllowed(_l("Only admins write platform-wide articles."))
    elif author.role != "client" or author.organisation_id != campaign.organisation_id:
        raise NotFound(_l("No such campaign."))
    clean = clean_article(data)
    article = KbArticle(
        organisation_id=campaign.organisation_id if campaign else None, campaign_id=campaign.id if campaign else None,
        kind=clean.kind, title=clean.title, body_markdown=clean.body, tags=clean.tags, category=clean.category,
        author_id=author.id, updated_by_id=author.id, created_at=now, updated_at=now)
    session.add(article)
    _index(session, article)
    return article


def update_article(session: Session, *, article: KbArticle, editor: User, data: ArticleInput,
                   now: datetime) -> KbArticle:
    """New text for a live article; its index entry is rewritten in the same transaction."""
    _check_editor(article, editor)
    if article.archived_at is not None:
        raise NotFound(_l("No such article."))
    clean = clean_article(data)
    article.kind, article.title, article.body_markdown = clean.kind, clean.title, clean.body
    article.tags, article.category = clean.tags, clean.category
    article.updated_by_id, article.updated_at = editor.id, now
    _index(session, article)
    return article


def archive_article(session: Session, *, article: KbArticle, editor: User, now: datetime) -> bool:
    """Take an article out of the knowledge base (kept for its feedback history); False when it already was."""
    _check_editor(article, editor)
    if article.archived_at is not None:
        return False
    article.archived_at, article.updated_by_id = now, editor.id
    session.flush()
    search.unindex_article(session, article_id=article.id)
    return True


def _check_editor(article: KbArticle, editor: User) -> None:
    if article.campaign_id is None:
        if editor.role != "admin":
            raise NotFound(_l("No such article."))
    elif editor.role != "client" or editor.organisation_id != article.organisation_id:
        raise NotFound(_l("No such article."))


def get_article_for_org(session: Session, article_id: int, organisation_id: int | None) -> KbArticle:
    """A live article of the client's organisation, or NotFound (other tenants' ids look missing)."""
    article = session.get(KbArticle, article_id)
    if article is None or article.archived_at is not None or article.organisation_id is None \
            or article.organisation_id != organisation_id:
        raise NotFound(_l("No such article."))
    return article


def get_platform_article(session: Session, article_id: int) -> KbArticle:
    article = session.get(KbArticle, article_id)
    if article is None or article.archived_at is not None or article.campaign_id is not None:
        raise NotFound(_l("No such article."))
    return article


def agent_has_claim_in(session: Session, *, agent_id: int, campaign_id: int) -> bool:
    """The agent holds (or held and worked) a seat in the campaign."""
    return session.scalar(select(Claim.id).where(
        Claim.agent_id == agent_id, Claim.campaign_id == campaign_id,
        Claim.status.in_([s.value for s in ACTIVE_CLAIM_STATUSES])).limit(1)) is not None


def get_article_for_agent(session: Session, *, agent_id: int, article_id: int) -> KbArticle:
    """A live platform article, or a live campaign article of a campaign the agent holds a claim in; else NotFound."""
    article = session.get(KbArticle, article_id)
    if article is None or article.archived_at is not None:
        raise NotFound(_l("No such article."))
    if article.campaign_id is not None and not agent_has_claim_in(session, agent_id=agent_id,
                                                                  campaign_id=article.campaign_id):
        raise NotFound(_l("No such article."))
    return article


def feedback_context(session: Session, *, claim: Claim, contact_id: int | None, now: datetime) -> str:
    """The feedback's once-only key: the contact being worked, or the agent's local day without one."""
    if contact_id is not None:
        contact_campaign = session.scalar(select(Contact.campaign_id).where(Contact.id == contact_id))
        if contact_campaign != claim.campaign_id:
            raise Invalid(_l("This contact is not on your campaign."), field="contact_id")
        return f"contact:{contact_id}"
    return f"day:{local(now).date().isoformat()}"


def record_feedback(session: Session, *, claim: Claim, article_id: int, helpful: bool, contact_id: int | None,
                    now: datetime) -> KbFeedback:
    """The agent's verdict on an article for one contact (or one day): once; sending it again changes nothing, a
    different verdict replaces the first. `claim` is the agent's own open claim (checked by the caller)."""
    article = session.get(KbArticle, article_id)
    if article is None or article.archived_at is not None or article.campaign_id not in (None, claim.campaign_id):
        raise NotFound(_l("No such article."))
    key = feedback_context(session, claim=claim, contact_id=contact_id, now=now)
    where = (KbFeedback.article_id == article_id, KbFeedback.agent_id == claim.agent_id,
             KbFeedback.context_key == key)
    existing = session.scalar(select(KbFeedback).where(*where))
    if existing is None:
        try:
            with session.begin_nested():
                existing = KbFeedback(article_id=article_id, agent_id=claim.agent_id, claim_id=claim.id,
                                      context_key=key, helpful=helpful, created_at=now, updated_at=now)
                session.add(existing)
            return existing
        except IntegrityError:  # the same verdict raced in from a second tap
            existing = session.scalar(select(KbFeedback).where(*where))
    if existing.helpful != helpful:
        existing.helpful, existing.updated_at = helpful, now
        session.flush()
    return existing
