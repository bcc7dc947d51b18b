"""Knowledge-base articles and the agents' "helped / did not help" feedback.

The search index is not a mapped table: on SQLite it is the FTS5 virtual table `kb_article_fts`, on
PostgreSQL the tsvector column `kb_articles.search_vector` (see app/kb/search.py and migration 0009).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.campaigns.models import Campaign
from app.core.db import UTCDateTime, db
from app.members.models import User


class ArticleKind(enum.StrEnum):
    FAQ = "faq"
    SCRIPT = "script"
    POLICY = "policy"


class KbArticle(db.Model):
    """One article: a campaign's (written by the client's users) or platform-wide (campaign_id NULL, by admins)."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(300), default="")  # space-separated keywords
    # An inbound contact category (order, delivery, return…) the article answers, for the console's suggestions.
    category: Mapped[str | None] = mapped_column(String(20))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign | None] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    __table_args__ = (
        CheckConstraint("kind IN ('faq','script','policy')", name="kind_known"),
        # A campaign article belongs to the campaign's organisation; a platform article to none.
        CheckConstraint("(campaign_id IS NULL) = (organisation_id IS NULL)", name="scope_consistent"),
        Index("ix_kb_articles_campaign_id_updated_at", "campaign_id", "updated_at"),
    )

    @property
    def is_platform(self) -> bool:
        return self.campaign_id is None


class KbFeedback(db.Model):
    """An agent's verdict on an article, once per article, agent and context (a contact, or a day without one)."""

    __tablename__ = "kb_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    context_key: Mapped[str] = mapped_column(String(40))  # "contact:<id>" or "day:<YYYY-MM-DD>"
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("article_id", "agent_id", "context_key", name="uq_kb_feedback_article_agent_context"),
        Index("ix_kb_feedback_article_id", "article_id"),
    )
