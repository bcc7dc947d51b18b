"""The full-text index of articles, one implementation per database, over jieba's segmented tokens.

Both databases index the same text: `search_tokens()` (app/core/segment.py) of the title, the tags and the
body, joined by spaces, so Chinese words are separate tokens a plain tokenizer can match.

* SQLite: the FTS5 virtual table `kb_article_fts(scope, title, tags, body)`, rowid = article id. `scope` holds
  `campaign<id>` or `platform`, so a campaign-scoped search is answered by the index alone; ranked by
  bm25 with weights scope 0, title 10, tags 5, body 1. A trigger removes a row whose article is deleted.
* PostgreSQL: the column `kb_articles.search_vector` (tsvector, 'simple' configuration: no stemming, no
  stop words, which jieba already dropped): title and tags weight A, body weight B, with a GIN index;
  ranked by ts_rank_cd.

Services call `index_article` / `unindex_article` in the same transaction as the change. Queries are OR
queries over the query's tokens (the more and rarer tokens an article matches, the higher it ranks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.segment import search_tokens

FTS_TABLE = "kb_article_fts"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_kb_articles_search_vector"
# FTS5's shadow tables (data, idx, content, docsize, config) are named after the virtual table.
_FTS_NAMES = re.compile(rf"^{FTS_TABLE}(_(data|idx|content|docsize|config))?$")
_UNSAFE = re.compile(r"[^\w]+", re.UNICODE)
MAX_QUERY_TOKENS = 24  # a pasted essay still costs a bounded query
CANDIDATES = 30  # text-ranked hits that feedback may re-order


def is_index_object(name: str | None, type_: str, table_name: str | None = None) -> bool:
    """True for the search index's own database objects, which the models do not describe (migration drift check)."""
    if not name:
        return False
    if type_ == "table":
        return bool(_FTS_NAMES.match(name))
    if type_ == "column":
        return name == SEARCH_COLUMN and table_name == "kb_articles"
    if type_ == "index":
        return name == SEARCH_INDEX
    return False


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object hook: leave the search index to migration 0009."""
    table = getattr(getattr(obj, "table", None), "name", None)
    return not is_index_object(name, type_, table)


def tokens(text_: str) -> list[str]:
    """Segmented, lower-cased tokens with anything but letters, digits and CJK removed (safe in both query syntaxes)."""
    out = []
    for token in search_tokens(text_ or ""):
        safe = _UNSAFE.sub("", token).replace("_", "")
        if safe:
            out.append(safe)
    return out


def query_tokens(text_: str) -> list[str]:
    """Distinct tokens of a query, in order, at most MAX_QUERY_TOKENS."""
    seen: dict[str, None] = {}
    for token in tokens(text_):
        seen.setdefault(token, None)
        if len(seen) >= MAX_QUERY_TOKENS:
            break
    return list(seen)


def _scope_token(campaign_id: int | None) -> str:
    return f"campaign{campaign_id}" if campaign_id is not None else "platform"


def index_article(session: Session, *, article_id: int, campaign_id: int | None, title: str, tags: str,
                  body: str) -> None:
    """(Re)write the article's index entry in the caller's transaction."""
    title_t, tags_t, body_t = (" ".join(tokens(part)) for part in (title, tags, body))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            "UPDATE kb_articles SET search_vector = "
            "setweight(to_tsvector('simple', :title || ' ' || :tags), 'A')"
            " || setweight(to_tsvector('simple', :body), 'B') "
            "WHERE id = :id"), {"id": article_id, "title": title_t, "tags": tags_t, "body": body_t})
        return
    session.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": article_id})  # nosec B608  # constant
    session.execute(text(f"INSERT INTO {FTS_TABLE} (rowid, scope, title, tags, body) "  # nosec B608  # constant
                         "VALUES (:id, :scope, :title, :tags, :body)"),
                    {"id": article_id, "scope": _scope_token(campaign_id), "title": title_t, "tags": tags_t,
                     "body": body_t})


def unindex_article(session: Session, *, article_id: int) -> None:
    """Drop the article from the index (archived articles are never found)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("UPDATE kb_articles SET search_vector = NULL WHERE id = :id"), {"id": article_id})
    else:
        session.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": article_id})  # nosec B608  # constant


@dataclass(frozen=True)
class Hit:
    article_id: int
    title: str
    body: str
    kind: str
    category: str | None
    campaign_id: int | None
    score: float  # text relevance, higher is better (bm25 negated on SQLite, ts_rank_cd on PostgreSQL)
    helped: int
    not_helped: int


_FEEDBACK_JOIN = (
    " LEFT JOIN (SELECT f.article_id, SUM(CASE WHEN f.helpful THEN 1 ELSE 0 END) AS helped,"
    " SUM(CASE WHEN f.helpful THEN 0 ELSE 1 END) AS not_helped FROM kb_feedback f"
    " WHERE f.article_id IN (SELECT id FROM hits) GROUP BY f.article_id) fb ON fb.article_id = a.id"
)


def search_hits(session: Session, query: str | list[str], *, campaign_ids: tuple[int, ...] = (),
                platform: bool = True, limit: int = CANDIDATES) -> list[Hit]:
    """Live articles of these campaigns (and platform articles when `platform`) matching `query` (text, or its
    `query_tokens`), best text match first, each with its feedback counts: one statement."""
    words = query_tokens(query) if isinstance(query, str) else query
    if not words or (not campaign_ids and not platform):
        return []
    if session.get_bind().dialect.name == "postgresql":
        scopes = []
        params: dict = {"q": " | ".join(f"'{w}'" for w in words), "limit": limit}
        if campaign_ids:
            scopes.append("a.campaign_id IN (" + ", ".join(f":c{i}" for i in range(len(campaign_ids))) + ")")
            params.update({f"c{i}": c for i, c in enumerate(campaign_ids)})
        if platform:
            scopes.append("a.campaign_id IS NULL")
        sql = (
            "WITH q AS (SELECT to_tsquery('simple', :q) AS q), "  # nosec B608  # scopes are placeholders only
            "hits AS (SELECT a.id, ts_rank_cd(a.search_vector, q.q) AS score FROM kb_articles a, q "
            f"WHERE a.search_vector @@ q.q AND a.archived_at IS NULL AND ({' OR '.join(scopes)}) "
            "ORDER BY score DESC, a.id DESC LIMIT :limit) "
            "SELECT a.id, a.title, a.body_markdown, a.kind, a.category, a.campaign_id, hits.score, "
            "COALESCE(fb.helped, 0), COALESCE(fb.not_helped, 0) FROM hits JOIN kb_articles a ON a.id = hits.id"
            + _FEEDBACK_JOIN + " ORDER BY hits.score DESC, a.id DESC"
        )
    else:
        scopes = [f"campaign{c}" for c in campaign_ids] + (["platform"] if platform else [])
        match = "scope : (" + " OR ".join(scopes) + ") AND {title tags body} : (" + " OR ".join(
            f'"{w}"' for w in words) + ")"
        params = {"q": match, "limit": limit}
        sql = (
            f"WITH hits AS (SELECT rowid AS id, -bm25({FTS_TABLE}, 0.0, 10.0, 5.0, 1.0) AS score FROM {FTS_TABLE} "  # nosec B608  # constant
            f"WHERE {FTS_TABLE} MATCH :q ORDER BY score DESC, rowid DESC LIMIT :limit) "
            "SELECT a.id, a.title, a.body_markdown, a.kind, a.category, a.campaign_id, hits.score, "
            "COALESCE(fb.helped, 0), COALESCE(fb.not_helped, 0) FROM hits JOIN kb_articles a ON a.id = hits.id"
            + _FEEDBACK_JOIN + " WHERE a.archived_at IS NULL ORDER BY hits.score DESC, a.id DESC"
        )
    return [Hit(int(r[0]), r[1], r[2], r[3], r[4], r[5], float(r[6]), int(r[7]), int(r[8]))
            for r in session.execute(text(sql), params)]
