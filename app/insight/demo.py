"""The demo's Double-11 peak has already run for a few days: a history made through the real services.

Agents claimed past shifts, checked in and out (a few never came), logged inbound after-sales conversations
in Chinese from the console service, customers answered surveys with comments, the QA rules flagged a few
contacts and the client decided some flags, and the worked claims were settled — every step with a past `now`,
so the client's dashboard and voice-of-the-customer pages have real figures right after `make run`.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.campaigns import services as campaigns
from app.campaigns.models import Campaign, Shift
from app.claims import services as claims
from app.claims.models import Claim, ClaimStatus
from app.contacts import services as contacts
from app.contacts.crypto import PhoneVault, vault_for_secret
from app.contacts.queries import contacts_handled_by_claim, successes_by_claim
from app.core.errors import DomainError
from app.core.timefmt import display_tz, local, local_today
from app.ledger.settlement import settle_due_claims
from app.members.models import User
from app.quality import services as quality
from app.quality.models import QaFlag, Survey
from app.work import services as work

HISTORY_DAYS = 3
BLOCKS = ((time(9), time(12)), (time(13), time(16)), (time(18), time(21)))
SEATS = 5
MAX_HISTORY_SHIFTS_PER_AGENT = 3

# (category, weight, notes the agent typed) — after-sales topics of a Double-11 week.
TOPICS = (
    ("return", 30, ["客户申请退款，商品未发货，已按原路退回，告知 1–3 个工作日到账",
                    "退换货：尺码不合适要换大一码，已提交换货申请并发送退货地址",
                    "七天无理由退货，客户担心运费，说明退货运费险会自动理赔",
                    "退款进度查询，已退款到花呗，客户不清楚到账时间，已解释",
                    "质量问题退货，客户上传了破损照片，已加急处理退款"]),
    ("delivery", 28, ["物流三天没更新，查询轨迹停在中转站，已提交催件工单",
                      "快递显示已签收但客户没收到，联系快递员核实，可能放在驿站",
                      "双11 订单发货慢，客户问预计发货时间，告知 48 小时内发出",
                      "物流延误，客户要求改地址，已联系仓库拦截改派",
                      "快递破损，外包装压坏，已登记补发"]),
    ("order", 18, ["价保申请：付尾款后降价 30 元，已按价保规则退差价",
                   "客户问价保规则，双11 付款后同款降价，说明 15 天价保可申请",
                   "订单合并付款后想取消其中一件，已拆单退款",
                   "优惠券没有生效，核实是跨店满减规则，已补发优惠券"]),
    ("product", 10, ["咨询商品尺码和材质，已推荐合适尺码",
                     "电器保修政策咨询，说明一年质保与发票开具"]),
    ("account", 6, ["会员积分没有到账，已提交积分补发",
                    "手机号换了登录不了账号，已指导实名认证找回"]),
    ("complaint", 8, ["投诉客服态度差，之前电话一直没人接，已道歉并升级给主管",
                      "投诉发货太慢，要求赔偿，已按延迟发货规则补偿无门槛券",
                      "投诉退款拖了一周没到账，已加急并承诺今日处理，没办法当场退回"]),
)
COMMENTS = {
    5: ["客服很耐心，退款很快就到了", "物流问题解决得很及时，谢谢", "态度很好，价保一下就退了", "很专业，换货很顺利"],
    4: ["问题解决了，就是等待时间有点长", "客服不错，物流还是有点慢", "退款说明得很清楚"],
    3: ["一般，物流还是没更新", "解决了一半，还要再等"],
    2: ["退款太慢了，等了好几天", "电话排队太久", "客服答非所问"],
    1: ["投诉了也没用，快递还是没到", "态度很差，问题没解决"],
}
SCORE_WEIGHTS = {5: 52, 4: 24, 3: 10, 2: 8, 1: 6}


def _setting(name: str, default):
    from flask import current_app, has_app_context

    return current_app.config.get(name, default) if has_app_context() else default


class _Callers:
    """Who is on the line: most phone calls come with the caller's number, some chats with an order number, and
    some customers call back within days (more often after an escalation or a delivery problem) — so the
    dashboard's first-contact resolution is below its plain resolution rate. A random stream of its own keeps
    the rest of the history as it was."""

    PREFIXES = ("138", "139", "135", "186", "158", "177")

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.recent: list[tuple[str, str, bool]] = []  # (kind, reference, came back worth) of earlier contacts
        self.orders = 0

    def next(self, channel: str, category: str) -> tuple[str, str]:
        rng = self.rng
        share = 0.75 if channel == "phone" else 0.35  # caller ID on most calls, an order number on some chats
        if rng.random() > share:
            return "phone", ""  # no reference taken
        again = [r for r in self.recent if r[2]] if rng.random() < 0.6 else self.recent
        if again and rng.random() < 0.14:
            kind, ref, _w = rng.choice(again[-80:])
            return kind, ref
        if channel == "phone" or rng.random() < 0.3:
            kind, ref = "phone", rng.choice(self.PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
        else:
            self.orders += 1
            kind, ref = "reference", f"JX2026111{rng.randint(100000, 999999)}{self.orders:04d}"
        return kind, ref

    def logged(self, kind: str, ref: str, category: str, escalated: bool) -> None:
        if ref:
            self.recent.append((kind, ref, escalated or category in ("delivery", "complaint")))


def _work_claim(session: Session, *, claim: Claim, agent: User, rng: random.Random, opens: timedelta,
                grace: timedelta, weights: list[int], callers: _Callers, vault: PhoneVault) -> int:
    """Check in around the start, log conversations until leaving (a few leave early), check out. Returns contacts."""
    arrived = claim.starts_at + timedelta(minutes=rng.randint(-12, 6))
    work.check_in(session, agent_id=agent.id, claim_id=claim.id, now=arrived, opens=opens, grace=grace)
    at = max(arrived, claim.starts_at) + timedelta(minutes=rng.randint(1, 6))
    leave = claim.ends_at if rng.random() > 0.06 else claim.ends_at - timedelta(minutes=rng.randint(20, 50))
    logged = 0
    while at < leave - timedelta(minutes=3):
        category, _w, notes = rng.choices(TOPICS, weights=weights)[0]
        seconds = rng.randint(90, 540) if category != "complaint" else rng.randint(300, 900)
        escalated = rng.random() < (0.45 if category == "complaint" else 0.08)
        channel = rng.choices(("phone", "chat", "app"), weights=(5, 4, 1))[0]
        ref_kind, ref = callers.next(channel, category)
        contacts.log_inbound_contact(session, agent_id=agent.id, claim_id=claim.id, now=at, vault=vault,
                                     data=contacts.InboundInput(
            channel=channel, category=category, resolution="escalated" if escalated else "resolved",
            duration_seconds=seconds, notes=rng.choice(notes), customer_ref=ref, customer_ref_kind=ref_kind))
        callers.logged(ref_kind, ref, category, escalated)
        logged += 1
        at += timedelta(seconds=seconds + rng.randint(60, 900))
    work.check_out(session, agent_id=agent.id, claim_id=claim.id, now=leave)
    return logged


def history_start(now: datetime) -> datetime:
    """When the peak was created and published: the morning of the day before its first worked day."""
    first_day = local_today(now) - timedelta(days=HISTORY_DAYS)
    return datetime.combine(first_day - timedelta(days=1), time(8), display_tz())


def seed_peak_history(session: Session, *, campaign: Campaign, client: User, agents: list[User], now: datetime,
                      rng: random.Random, secret: bytes | None = None,
                      vault: PhoneVault | None = None) -> dict[str, int]:
    """Work HISTORY_DAYS past days of the (already published) peak campaign. Returns a few counts.

    `vault` hashes the callers' references (default: the app's CONTACT_ENCRYPTION_KEY).
    """
    if secret is None:
        secret = _setting("SECRET_KEY", "demo").encode()
    if vault is None:
        vault = vault_for_secret(_setting("CONTACT_ENCRYPTION_KEY", "") or "")
    callers = _Callers(random.Random(f"surgeline-demo-callers-{campaign.id}"))  # nosec B311  # demo data
    opens = timedelta(minutes=_setting("CHECKIN_OPENS_MINUTES", 15))
    grace = timedelta(minutes=_setting("NO_SHOW_GRACE_MINUTES", 10))
    tz = display_tz()
    start = history_start(now)
    first_day = local_today(now) - timedelta(days=HISTORY_DAYS)
    for day_start, day_end in BLOCKS:
        campaigns.generate_shifts(session, campaign, campaigns.ShiftPattern(
            first_day=first_day, last_day=first_day + timedelta(days=HISTORY_DAYS - 1), day_start=day_start,
            day_end=day_end, block_minutes=180, seats=SEATS), tz=tz, now=start)
    past = list(session.scalars(select(Shift).where(Shift.campaign_id == campaign.id, Shift.ends_at <= now)
                                .order_by(Shift.starts_at, Shift.id)))

    # Seats grabbed from the board the day before, as eligible agents do (the rest are refused, as on the board).
    taken: dict[int, int] = {}
    order = list(agents)
    rng.shuffle(order)
    held: list[tuple[Claim, User]] = []
    for shift in past:
        want = rng.randint(SEATS - 1, SEATS)
        got = 0
        for agent in order:
            if got >= want:
                break
            if taken.get(agent.id, 0) >= MAX_HISTORY_SHIFTS_PER_AGENT:
                continue
            try:
                with session.begin_nested():
                    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=start)
            except DomainError:
                continue
            taken[agent.id] = taken.get(agent.id, 0) + 1
            held.append((claim, agent))
            got += 1
        order = order[got:] + order[:got]  # the next shift starts with other agents

    # Day by day: check-ins (a few no-shows), conversations logged from the console, check-outs; after the
    # day's last shift the worker's jobs run: no-show sweep, QA inspection, surveys (about half answered,
    # most of them happy, some with a comment) and settlement.
    quality.set_qa_rules(session, campaign=campaign, data=quality.RulesInput(
        required_phrases="", forbidden_words="没办法\n不归我管", max_duration_minutes=14, lesson_course=None),
        known_courses=set(), now=start)
    weights = [w for _c, w, _n in TOPICS]
    scores, score_weights = list(SCORE_WEIGHTS), list(SCORE_WEIGHTS.values())
    logged = answered = 0
    days = sorted({local(s.starts_at).date() for s in past})
    for day in days:
        day_shifts = [s for s in past if local(s.starts_at).date() == day]
        for claim, agent in held:
            if local(claim.starts_at).date() != day or rng.random() < 0.08:
                continue  # another day, or never came (the sweep marks the no-show)
            logged += _work_claim(session, claim=claim, agent=agent, rng=rng, opens=opens, grace=grace,
                                  weights=weights, callers=callers, vault=vault)
        for shift in day_shifts:
            work.sweep_no_shows(session, now=shift.starts_at + grace + timedelta(minutes=1), grace=grace)
        done = max(s.ends_at for s in day_shifts) + timedelta(minutes=5)
        quality.inspect_contacts(session, now=done)
        quality.create_surveys(session, now=done)
        settle_due_claims(session, now=done, commission_bps=_setting("PLATFORM_COMMISSION_BPS", 1000),
                          dispute_window=timedelta(hours=_setting("DISPUTE_WINDOW_HOURS", 48)),
                          contacts_by_claim=lambda ids: contacts_handled_by_claim(session, ids),
                          successes_by_claim=lambda ids: successes_by_claim(session, ids))
        for survey_id in session.scalars(select(Survey.id).where(Survey.campaign_id == campaign.id,
                                                                 Survey.answered_at.is_(None),
                                                                 Survey.created_at == done).order_by(Survey.id)).all():
            if rng.random() > 0.48:
                continue
            score = rng.choices(scores, weights=score_weights)[0]
            comment = rng.choice(COMMENTS[score]) if rng.random() < 0.55 else ""
            quality.answer_survey(session, secret=secret, token=quality.survey_token(secret, survey_id),
                                  score=score, comment=comment,
                                  now=min(now, done + timedelta(minutes=rng.randint(5, 240))))
            answered += 1
    done = max(s.ends_at for s in past) + timedelta(minutes=5)

    # The client decided the first flags: two confirmed, one dismissed, the rest still open.
    flags = list(session.scalars(select(QaFlag.id).where(QaFlag.campaign_id == campaign.id).order_by(QaFlag.id)))
    for flag_id, confirm in zip(flags[:3], (True, True, False), strict=False):
        quality.decide_flag(session, user=client, flag_id=flag_id, confirm=confirm, now=min(now, done + timedelta(
            hours=1)))
    session.flush()
    worked = session.scalar(select(func.count()).select_from(Claim).where(
        Claim.campaign_id == campaign.id, Claim.status == ClaimStatus.SETTLED))
    return {"shifts": len(past), "claims": len(held), "worked": worked, "contacts": logged,
            "surveys_answered": answered, "flags": len(flags)}
