"""Voice of the customer: the words customers and agents use most, this period against the previous one.

Texts: outbound calls' notes and transcripts, inbound conversations' notes and transcripts, survey comments.
Each is segmented with the shared segmenter (app.core.segment.words: jieba for Chinese, English words
lower-cased, stop words dropped). A keyword's count is the number of texts that mention it (a text repeating
a word counts once), so one long transcript cannot drown the rest; two-word phrases are adjacent words.

The work is bounded: per period at most MAX_TEXTS_PER_SOURCE of the latest texts of each of the three sources,
reading only the text columns (three SELECTs per period), and the drill-down reuses the rows already read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign
from app.contacts import phones
from app.contacts.crypto import PhoneVault
from app.contacts.models import Contact, ContactAttempt, InboundContact
from app.core.segment import words
from app.core.timefmt import display_tz
from app.quality.models import Survey

PERIODS = {"1": 1, "7": 7, "30": 30, "all": None}
PERIOD_NAMES = {"1": _l("Last 24 hours"), "7": _l("Last 7 days"), "30": _l("Last 30 days"),
                "all": _l("Whole campaign")}
MAX_TEXTS_PER_SOURCE = 2000
TOP_KEYWORDS = 20
TOP_PHRASES = 10
MAX_MENTIONS = 50
# Fillers common in call notes that name no topic (on top of the segmenter's own stop words).
VOICE_STOPWORDS = frozenset((
    "一直", "时候", "什么时候", "现在", "今天", "明天", "昨天", "知道", "这样", "那样", "一点", "觉得", "还有", "需要",
    "表示", "告知", "反馈", "情况", "问题", "看看", "一下", "帮忙", "customer", "said", "asked", "called", "call",
))
SOURCE_NAMES = {"outbound": _l("Outbound call"), "inbound": _l("Inbound conversation"),
                "survey": _l("Survey comment")}


@dataclass(frozen=True)
class Doc:
    source: str  # outbound | inbound | survey
    id: int
    at: datetime
    text: str
    contact_id: int | None  # the outbound customer (for the masked phone)
    score: int | None = None  # a survey's rating


@dataclass(frozen=True)
class Term:
    term: str
    count: int
    previous: int | None  # None: no previous period to compare with

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.count - self.previous


@dataclass
class Report:
    start: datetime
    end: datetime
    previous_start: datetime | None
    texts: int
    previous_texts: int | None
    capped: bool
    keywords: list[Term] = field(default_factory=list)
    phrases: list[Term] = field(default_factory=list)
    docs: list[Doc] = field(default_factory=list)


def campaign_start(campaign: Campaign) -> datetime:
    """The start of the campaign's first day in the display time zone."""
    return datetime.combine(campaign.starts_on, time(0), display_tz())


def period_bounds(campaign: Campaign, period: str, now: datetime) -> tuple[datetime, datetime, datetime | None]:
    """(start, end, previous start): the previous period has the same length and ends where this one starts."""
    days = PERIODS[period]
    if days is None:
        return min(campaign_start(campaign), now), now, None
    start = now - timedelta(days=days)
    return start, now, start - timedelta(days=days)


def read_texts(session: Session, campaign_id: int, start: datetime, end: datetime) -> tuple[list[Doc], bool]:
    """The period's texts, latest first, at most MAX_TEXTS_PER_SOURCE per source. Returns (docs, capped)."""
    docs: list[Doc] = []
    capped = False
    limit = MAX_TEXTS_PER_SOURCE
    for model, source in ((ContactAttempt, "outbound"), (InboundContact, "inbound")):
        outbound = model is ContactAttempt
        columns = [model.id, model.created_at, model.notes, model.transcript]
        rows = session.execute(
            select(*columns, ContactAttempt.contact_id if outbound else model.id)
            .where(model.campaign_id == campaign_id, model.created_at >= start, model.created_at < end)
            .order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)
        ).all()
        capped = capped or len(rows) > limit
        for row_id, at, notes, transcript, contact_id in rows[:limit]:
            text = "\n".join(t for t in (notes, transcript) if t)
            if text.strip():
                docs.append(Doc(source, row_id, at, text, contact_id if outbound else None))
    rows = session.execute(
        select(Survey.id, Survey.answered_at, Survey.comment, Survey.score, ContactAttempt.contact_id)
        .outerjoin(ContactAttempt, ContactAttempt.id == Survey.attempt_id)
        .where(Survey.campaign_id == campaign_id, Survey.answered_at >= start, Survey.answered_at < end,
               Survey.comment.is_not(None), Survey.comment != "")
        .order_by(Survey.answered_at.desc(), Survey.id.desc()).limit(limit + 1)
    ).all()
    capped = capped or len(rows) > limit
    for row_id, at, comment, score, contact_id in rows[:limit]:
        docs.append(Doc("survey", row_id, at, comment, contact_id, score))
    return docs, capped


def _terms(doc: Doc) -> tuple[set[str], set[str]]:
    tokens = [t for t in words(doc.text) if t not in VOICE_STOPWORDS]
    return set(tokens), {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False) if a != b}


def count_terms(docs: list[Doc]) -> tuple[Counter, Counter]:
    """Texts mentioning each keyword and each two-word phrase."""
    keywords: Counter = Counter()
    phrases: Counter = Counter()
    for doc in docs:
        single, double = _terms(doc)
        keywords.update(single)
        phrases.update(double)
    return keywords, phrases


def _top(current: Counter, previous: Counter | None, n: int, minimum: int = 1) -> list[Term]:
    ranked = sorted(((term, count) for term, count in current.items() if count >= minimum),
                    key=lambda item: (-item[1], item[0]))[:n]
    return [Term(term, count, None if previous is None else previous.get(term, 0)) for term, count in ranked]


def keyword_report(session: Session, *, campaign: Campaign, period: str, now: datetime) -> Report:
    start, end, previous_start = period_bounds(campaign, period, now)
    docs, capped = read_texts(session, campaign.id, start, end)
    keywords, phrases = count_terms(docs)
    previous_keywords = previous_phrases = None
    previous_texts = None
    if previous_start is not None:
        before, capped_before = read_texts(session, campaign.id, previous_start, start)
        capped = capped or capped_before
        previous_keywords, previous_phrases = count_terms(before)
        previous_texts = len(before)
    return Report(start=start, end=end, previous_start=previous_start, texts=len(docs), previous_texts=previous_texts,
                  capped=capped, keywords=_top(keywords, previous_keywords, TOP_KEYWORDS),
                  phrases=_top(phrases, previous_phrases, TOP_PHRASES, minimum=2), docs=docs)


@dataclass(frozen=True)
class Mention:
    doc: Doc
    masked_phone: str | None


def mentions(session: Session, *, campaign: Campaign, report: Report, keyword: str, vault: PhoneVault) -> list[Mention]:
    """The period's texts behind a keyword or two-word phrase, latest first, with the customer's phone masked.

    Only texts of `campaign` were read into the report, so nothing of another organisation can show up.
    """
    wanted = " ".join(keyword.lower().split())
    found = []
    for doc in sorted(report.docs, key=lambda d: d.at, reverse=True):
        single, double = _terms(doc)
        if wanted in single or wanted in double:
            found.append(doc)
            if len(found) >= MAX_MENTIONS:
                break
    contact_ids = {d.contact_id for d in found if d.contact_id is not None}
    masked: dict[int, str] = {}
    if contact_ids:
        for contact_id, blob in session.execute(
            select(Contact.id, Contact.phone_ciphertext)
            .where(Contact.id.in_(contact_ids), Contact.campaign_id == campaign.id)
        ):
            try:
                masked[contact_id] = phones.mask(vault.decrypt(blob, campaign_id=campaign.id))
            except ValueError:  # a key rotated away: show nothing rather than fail the page
                masked[contact_id] = "***"
    return [Mention(d, masked.get(d.contact_id)) for d in found]


def chart_data(report: Report) -> dict:
    from flask_babel import gettext

    top = report.keywords[:10]
    datasets = [{"label": gettext("This period"), "data": [t.count for t in top], "color": "#e8483b"}]
    if report.previous_start is not None:
        datasets.append({"label": gettext("Previous period"), "data": [t.previous for t in top], "color": "#c9cede"})
    return {"type": "bar", "horizontal": True, "labels": [t.term for t in top], "datasets": datasets}
