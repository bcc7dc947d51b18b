"""The demo: three businesses around a Double-11 peak and ~200 agents, seeded through the real services."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns import services as campaigns
from app.campaigns.models import Shift
from app.claims import services as claims
from app.contacts import services as contacts
from app.contacts.crypto import PhoneVault, vault_for_secret
from app.core.errors import DomainError
from app.core.timefmt import display_tz, local_today
from app.insight.demo import HISTORY_DAYS, history_start, seed_peak_history
from app.kb.demo import seed_kb
from app.ledger import services as ledger
from app.ledger.payments import SimulatedProvider
from app.members import services as members
from app.members.models import Status, Tier, User

DEMO_PASSWORD = "demo12345"  # nosec B105  # demo logins; refused in production
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = ["子涵", "欣怡", "梓轩", "雨桐", "浩然", "诗涵", "宇轩", "思琪", "一诺", "佳怡", "俊杰", "晓彤", "嘉怡",
         "明轩", "雅琪", "天佑", "可馨", "博文", "若曦", "志强", "丽娜", "海燕", "建华", "文静", "晨阳", "梦瑶",
         "家豪", "慧敏", "晓东", "婷婷", "伟", "芳", "磊", "静", "敏", "强", "洋", "艳", "杰", "娟"]
CITIES = ["成都", "重庆", "长沙", "武汉", "西安", "郑州", "合肥", "南昌", "昆明", "贵阳", "石家庄", "哈尔滨", "广州",
          "深圳", "杭州", "南宁"]
TAG_SETS = [
    ["industry.ecommerce", "skill.inbound_support", "skill.after_sales"],
    ["industry.ecommerce", "skill.inbound_support"],
    ["industry.food_delivery", "skill.inbound_support"],
    ["industry.finance", "skill.outbound_callback", "skill.satisfaction_survey"],
    ["skill.marketing_reactivation", "skill.outbound_callback"],
    ["industry.ecommerce", "skill.marketing_reactivation", "skill.outbound_callback"],
    ["skill.complaint_handling", "industry.ecommerce", "skill.inbound_support"],
    [],
]


def _phone(rng: random.Random) -> str:
    prefix = rng.choice(["134", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "177", "180",
                         "186", "187", "188", "189"])
    return f"{prefix}{rng.randint(10_000_000, 99_999_999)}"


# The outbound shift that is workable right after seeding: check-in opens CHECKIN_OPENS_MINUTES (15) before start.
WORKABLE_SHIFT_STARTS_IN = timedelta(minutes=10)
WORKABLE_SHIFT_MINUTES = 180
CALL_LIST_CONTACTS = 40


def seed(session: Session, *, agents: int = 200, now: datetime, rng_seed: int = 11, vault: PhoneVault | None = None,
         upload_dir: str | Path | None = None) -> bool:
    """Create the demo once; returns False when it is already there.

    `vault` and `upload_dir` default to the running app's CONTACT_ENCRYPTION_KEY and UPLOAD_DIR (as the upload
    view and the import job use them).
    """
    if session.scalar(select(User.id).where(User.email == "admin@demo.local")) is not None:
        return False
    rng = random.Random(rng_seed)  # nosec B311  # reproducible demo data, not security
    admin = members.create_admin(session, email="admin@demo.local", name="平台管理员 Admin", password=DEMO_PASSWORD,
                                 now=now)

    shop = members.register_client(session, members.ClientSignup(
        organisation="鲸选优品商城", industry="industry.ecommerce", name="周婷 (电商运营)",
        email="client@demo.local", phone="13800138000", password=DEMO_PASSWORD), now=now)
    food = members.register_client(session, members.ClientSignup(
        organisation="饱了么外卖", industry="industry.food_delivery", name="陈浩 (客服经理)",
        email="food@demo.local", phone="13900139000", password=DEMO_PASSWORD), now=now)
    bank = members.register_client(session, members.ClientSignup(
        organisation="华信银行信用卡中心", industry="industry.finance", name="林静 (服务质量部)",
        email="bank@demo.local", phone="13700137000", password=DEMO_PASSWORD), now=now)

    def make_agent(email: str, name: str, city: str, langs: tuple[str, ...]) -> User:
        return members.register_agent(session, members.AgentSignup(
            name=name, email=email, phone=_phone(rng), city=city, languages=langs, password=DEMO_PASSWORD), now=now)

    def certify(agent: User, tags: list[str], tier: int) -> None:
        members.verify_agent(session, admin=admin, agent_id=agent.id, now=now)
        if tier:
            members.set_tier(session, actor_id=admin.id, agent_id=agent.id, tier=tier, now=now,
                             reason="demo: required Academy courses passed")
        for code in tags:
            members.grant_tag(session, admin=admin, agent_id=agent.id, tag_code=code, now=now, expires_at=None,
                              reason="demo: certified before the Academy went live")

    star = make_agent("agent@demo.local", "李小满", "成都", ("lang.mandarin", "lang.sichuanese"))
    certify(star, ["industry.ecommerce", "skill.inbound_support", "skill.after_sales", "industry.food_delivery",
                   "skill.outbound_callback", "skill.marketing_reactivation"], Tier.SENIOR)
    make_agent("newbie@demo.local", "王新新", "长沙", ("lang.mandarin",))  # waits in the verification queue

    crowd: list[User] = []
    for i in range(agents - 2):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        langs = ["lang.mandarin"] + (["lang.cantonese"] if rng.random() < 0.15 else []) + (
            ["lang.english"] if rng.random() < 0.2 else [])
        agent = make_agent(f"agent{i + 1:03d}@demo.local", name, rng.choice(CITIES), tuple(langs))
        roll = rng.random()
        if roll < 0.1:
            continue  # pending verification
        tier = rng.choices([Tier.TRAINEE, Tier.CERTIFIED, Tier.SENIOR, Tier.GOLD], weights=[15, 55, 22, 8])[0]
        certify(agent, rng.choice(TAG_SETS) if tier else [], tier)
        if roll > 0.98:
            members.set_status(session, admin=admin, user_id=agent.id, status=Status.SUSPENDED, now=now,
                               reason="demo: repeated no-shows under review")
        elif tier:
            crowd.append(agent)

    tz = display_tz()
    today = local_today(now)
    first = today + timedelta(days=1)

    # Each business tops up its wallet (simulated payment); publishing moves a campaign's budget into escrow.
    for client, yuan in ((shop, 500_000), (food, 200_000), (bank, 100_000)):
        payment = SimulatedProvider().charge(organisation_id=client.organisation_id, amount_fen=yuan * 100,
                                             reference=f"{client.organisation_id:032x}")
        ledger.top_up(session, organisation_id=client.organisation_id, payment=payment, now=now)

    def campaign(owner: User, **fields) -> object:
        data = campaigns.CampaignInput(**fields)
        return campaigns.create_campaign(session, user=owner, data=data, now=now, today=today)

    def shifts(c, first_day: date, days: int, start: time, end: time, block: int, seats: int) -> None:
        campaigns.generate_shifts(session, c, campaigns.ShiftPattern(
            first_day=first_day, last_day=first_day + timedelta(days=days - 1), day_start=start, day_end=end,
            block_minutes=block, seats=seats), tz=tz, now=now)

    # The peak has already run for a few days (app/insight/demo.py): created and published before its first
    # worked day, with history shifts that were claimed, worked, surveyed and settled, and future shifts still open.
    peak_opened = history_start(now)
    peak = campaigns.create_campaign(session, user=shop, now=peak_opened, today=local_today(peak_opened),
                                     data=campaigns.CampaignInput(
        name="双11 售后高峰支援 · Double-11 after-sales peak", kind="inbound", industry="industry.ecommerce",
        description="双11 大促后的退换货、价保与物流咨询高峰。Returns, price protection and "
                    "parcel questions after Double 11.",
        script="您好，这里是鲸选优品客服，我是工号____，请问有什么可以帮您？\n"
               "1. 核实订单号与收货手机号后四位；\n2. 退款：说明原路退回 1–3 个工作日；\n"
               "3. 物流延误：查询轨迹，超 48 小时未更新提交催件工单；\n"
               "结束语：感谢您的耐心，稍后会有满意度短信，麻烦给个评价，祝您生活愉快！",
        required_tags=("industry.ecommerce", "skill.inbound_support"), min_tier=Tier.CERTIFIED,
        rate_fen_per_hour=3800, bonus_fen_per_contact=80, budget_fen=30_000_000,
        starts_on=today - timedelta(days=HISTORY_DAYS), ends_on=first + timedelta(days=6)))
    shifts(peak, first, 5, time(8), time(0), 120, 20)
    ledger.publish_and_fund(session, peak, peak_opened)
    seed_peak_history(session, campaign=peak, client=shop, agents=crowd, now=now, rng=random.Random(rng_seed + 2))  # nosec B311  # demo data

    wake = campaign(shop, name="双12 预热 · 沉睡会员唤醒 Dormant-member reactivation", kind="outbound_marketing",
                    industry="industry.ecommerce", description="给 90 天未下单会员外呼，介绍双12 会员专享券。",
                    script="您好，我是鲸选优品的会员顾问……（先确认对方是否方便接听；拒绝即结束并标记）",
                    required_tags=("skill.marketing_reactivation",), min_tier=Tier.CERTIFIED,
                    rate_fen_per_hour=3200, bonus_fen_per_contact=150, bonus_fen_per_success=500,
                    budget_fen=8_000_000,
                    starts_on=today, ends_on=first + timedelta(days=13))  # today: a shift is workable at once
    shifts(wake, first + timedelta(days=1), 7, time(10), time(20), 120, 8)
    ledger.publish_and_fund(session, wake, now)

    lunch = campaign(food, name="外卖午晚高峰 · 超时赔付专线 Meal-peak late-order line", kind="inbound",
                     industry="industry.food_delivery", description="午高峰与晚高峰的超时、漏送、餐损问题。",
                     script="您好，饱了么客服，请提供订单尾号……（超时按准时宝规则赔付）",
                     required_tags=("industry.food_delivery", "skill.inbound_support"), min_tier=Tier.CERTIFIED,
                     rate_fen_per_hour=3500, bonus_fen_per_contact=50, budget_fen=12_000_000,
                     starts_on=first, ends_on=first + timedelta(days=6))
    shifts(lunch, first, 5, time(11), time(13), 120, 6)
    shifts(lunch, first, 5, time(17), time(21), 120, 6)
    ledger.publish_and_fund(session, lunch, now)

    survey = campaign(bank, name="信用卡分期满意度回访 Card-instalment satisfaction callbacks",
                      kind="outbound_callback", industry="industry.finance",
                      description="对办理分期的持卡人做满意度回访；严禁索要密码与验证码。",
                      script="您好，我是华信银行信用卡中心的回访专员，本次通话将被录音……",
                      required_tags=("industry.finance", "skill.satisfaction_survey"), min_tier=Tier.SENIOR,
                      rate_fen_per_hour=4500, bonus_fen_per_contact=100, budget_fen=6_000_000,
                      starts_on=first, ends_on=first + timedelta(days=9))
    shifts(survey, first + timedelta(days=2), 5, time(9), time(18), 180, 4)
    ledger.publish_and_fund(session, survey, now)

    campaign(bank, name="存款产品到期提醒（草稿）Deposit maturity reminders (draft)", kind="outbound_callback",
             industry="industry.finance", description="", script="", required_tags=("industry.finance",),
             min_tier=Tier.SENIOR, rate_fen_per_hour=4000, bonus_fen_per_contact=0, budget_fen=2_000_000,
             starts_on=first + timedelta(days=7), ends_on=first + timedelta(days=20))
    session.flush()

    # The crowd grabs seats through the same service the board uses; refusals are part of the story.
    shift_ids = [sid for sid, in session.execute(
        select(Shift.id).where(Shift.campaign_id.in_([peak.id, lunch.id, wake.id, survey.id]))
        .order_by(Shift.starts_at))]
    for agent in crowd:
        for shift_id in rng.sample(shift_ids, k=min(len(shift_ids), 4)):
            try:
                with session.begin_nested():
                    claims.claim_shift(session, agent=agent, shift_id=shift_id, now=now)
            except DomainError:
                pass
    # Fill one lunch shift to the brim so the waitlist shows.
    hot = session.scalar(select(Shift).where(Shift.campaign_id == lunch.id)
                         .order_by(Shift.starts_at))
    for agent in crowd:
        if hot.seats_taken >= hot.seats:
            try:
                with session.begin_nested():
                    claims.join_waitlist(session, agent=agent, shift_id=hot.id, now=now)
            except DomainError:
                pass
            continue
        try:
            with session.begin_nested():
                claims.claim_shift(session, agent=agent, shift_id=hot.id, now=now)
        except DomainError:
            pass
        session.refresh(hot)
    seed_academy(session, admin=admin, star=star, crowd=crowd, now=now, rng=rng)
    seed_outbound(session, campaign=wake, client=shop, star=star, now=now, rng=random.Random(rng_seed + 1),  # nosec B311  # demo data
                  vault=vault, upload_dir=upload_dir)
    seed_kb(session, admin=admin, client=shop, peak=peak, wake=wake, now=now)
    # The live Double-11 walk-through: an inbound seat whose check-in opens right after seeding (last, so the
    # random stream of everything above stays the same).
    peaker = make_agent("peak@demo.local", "赵小峰", "杭州", ("lang.mandarin",))
    certify(peaker, ["industry.ecommerce", "skill.inbound_support", "skill.after_sales"], Tier.CERTIFIED)
    seed_live_peak(session, campaign=peak, agent=peaker, now=now)
    session.commit()
    return True


def seed_live_peak(session: Session, *, campaign, agent: User, now: datetime) -> None:
    """A Double-11 shift starting ~10 minutes after seeding, with one seat taken by `agent` through the board's
    service: the inbound console (and its knowledge-base assistant) can be tried at once."""
    pattern = workable_shift_pattern(now, seats=6)
    campaigns.generate_shifts(session, campaign, pattern, tz=display_tz(), now=now)
    starts_at = datetime.combine(pattern.first_day, pattern.day_start, display_tz())
    shift = session.scalar(select(Shift).where(Shift.campaign_id == campaign.id, Shift.starts_at == starts_at))
    claims.claim_shift(session, agent=agent, shift_id=shift.id, now=now)


def workable_shift_pattern(now: datetime, *, seats: int = 4) -> campaigns.ShiftPattern:
    """One block starting ~10 minutes after `now` (on the next whole minute) and lasting 3 hours, local time.

    The pattern's day is the start's local date; an end past midnight is an end time not after the start,
    which generate_shifts reads as "the next day".
    """
    start = (now + WORKABLE_SHIFT_STARTS_IN).astimezone(display_tz())
    start = start.replace(second=0, microsecond=0) + (timedelta(minutes=1) if (start.second or start.microsecond)
                                                      else timedelta())
    end = start + timedelta(minutes=WORKABLE_SHIFT_MINUTES)
    return campaigns.ShiftPattern(first_day=start.date(), last_day=start.date(), day_start=start.time(),
                                  day_end=end.time(), block_minutes=WORKABLE_SHIFT_MINUTES, seats=seats)


def demo_call_list_csv(rng: random.Random, rows: int = CALL_LIST_CONTACTS) -> bytes:
    """A call list as Excel saves it: UTF-8 with BOM, header 姓名,手机,备注."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(["姓名", "手机", "备注"])
    seen: set[str] = set()
    while len(seen) < rows:
        phone = _phone(rng)
        if phone in seen:
            continue
        seen.add(phone)
        idle_days = rng.randint(91, 400)
        spent = rng.randint(2, 120) * 50
        writer.writerow([rng.choice(SURNAMES) + rng.choice(GIVEN), phone,
                         f"{idle_days} 天未下单；累计消费 {spent} 元；{rng.choice(CITIES)}"])
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def seed_outbound(session: Session, *, campaign, client: User, star: User, now: datetime, rng: random.Random,
                  vault: PhoneVault | None, upload_dir: str | Path | None) -> None:
    """The outbound walk-through, ready right after seeding: the reactivation campaign has an imported call list,
    and the star agent holds a seat on a shift whose check-in is already open."""
    from flask import current_app

    if vault is None:
        vault = vault_for_secret(current_app.config["CONTACT_ENCRYPTION_KEY"] or "")
    if upload_dir is None:
        upload_dir = current_app.config["UPLOAD_DIR"]

    # A shift added to the published (already funded) campaign, then taken by the star through the board's service.
    pattern = workable_shift_pattern(now)
    campaigns.generate_shifts(session, campaign, pattern, tz=display_tz(), now=now)
    starts_at = datetime.combine(pattern.first_day, pattern.day_start, display_tz())
    shift = session.scalar(select(Shift).where(Shift.campaign_id == campaign.id, Shift.starts_at == starts_at))
    _free_seats_overlapping(session, star, shift, now=now)
    claims.claim_shift(session, agent=star, shift_id=shift.id, now=now)

    # The client's upload and the import job, as the upload view and contacts.import_call_list run them.
    payload = demo_call_list_csv(rng)
    call_list = contacts.upload_call_list(
        session, user_id=client.id, campaign=campaign, stream=io.BytesIO(payload), filename="双12沉睡会员.csv",
        upload_dir=upload_dir, max_bytes=current_app.config["CALL_LIST_MAX_BYTES"], locale="zh", now=now)
    session.commit()  # the importer takes the list in its own transaction, as the job does after the upload's commit
    contacts.import_call_list(session, call_list_id=call_list.id, vault=vault, upload_dir=upload_dir,
                              max_rows=current_app.config["CALL_LIST_MAX_ROWS"], now=now)


def _free_seats_overlapping(session: Session, agent: User, shift: Shift, *, now: datetime) -> None:
    """Give back any not-yet-started seat of the agent that clashes with `shift` (the demo never makes one today)."""
    from app.claims.models import Claim, ClaimStatus

    clashing = session.scalars(select(Claim.id).where(
        Claim.agent_id == agent.id, Claim.is_active.is_(True), Claim.status == ClaimStatus.CLAIMED,
        Claim.starts_at < shift.ends_at, Claim.ends_at > shift.starts_at)).all()
    for claim_id in clashing:
        claims.release_claim(session, agent=agent, claim_id=claim_id, now=now, cutoff=timedelta(0))


ACADEMY_QUESTIONS = [
    ("双11 付款后降价了，客户要求退差价，价保怎么判断？",
     "客户 11 月 5 日付了定金，11 月 11 日尾款时发现同款便宜了 30 元。店铺写了“15 天价保”，这种情况能申请吗？",
     "ecommerce-peak",
     "先看价保规则的起算点：一般按实际支付尾款的时间算，15 天内同规格降价就可以申请退差价。"
     "注意预售定金、平台跨店满减和直播间专属价通常不在价保范围内，回复前先在工单系统里核对活动类型。"),
    ("客户一上来就骂人，我该怎么开口？",
     "外卖午高峰，客户说“你们就是骗子”，情绪很激动，我怕说错话。",
     "complaint-handling",
     "先别急着解释规则，用一句话承接情绪：“您等了这么久确实很着急，我马上帮您查。”"
     "然后核实订单、说清楚下一步和时间点。如果出现人身攻击，按课程里的三次提醒规则处理，记录后可以结束通话。"),
]

ACADEMY_ARTICLE = (
    "双11 售后高峰复盘：一小时 40 通电话怎么不乱",
    "## 背景\n\n去年双11 后第一天，我在鲸选优品的售后专线上一小时接了 40 通电话，"
    "大部分是退款进度、价保和物流延误。\n\n"
    "## 三个做法\n\n"
    "- **先分流**：开口 10 秒内问清是退款、价保还是物流，分别用固定话术。\n"
    "- **只承诺能做到的**：退款说“原路退回 1–3 个工作日”，不要说“马上到账”。\n"
    "- **工单写清楚**：订单号、诉求、已做的动作、下一步，接手的人不用再问一遍。\n\n"
    "## 一句好用的话术\n\n"
    "> 我先帮您把情况记下来，物流 48 小时没更新我这边会提交催件，今天之内会有短信通知您。\n",
)


def seed_academy(session: Session, *, admin: User, star: User, crowd: list[User], now: datetime,
                 rng: random.Random) -> None:
    """The Academy part of the demo, through its services: the star agent passed the required courses by
    answering the drawn questions right, took the work-style assessment, answered a colleague's question (accepted,
    so it earned XP); the admin published an expert article."""
    from app.training import current_catalogue
    from app.training import services as training

    catalogue = current_catalogue()
    training.sync_catalogue(session, catalogue, now=now)
    for slug in catalogue.required_slugs:
        attempt = training.start_attempt(session, agent_id=star.id, slug=slug, now=now, catalogue=catalogue, rng=rng)
        training.submit_attempt(session, agent_id=star.id, attempt_id=attempt.id, now=now, catalogue=catalogue,
                                answers=training.correct_answers(catalogue.course(slug), attempt))
    psych = catalogue.psych
    training.submit_assessment(session, agent_id=star.id, slug="psych", now=now, catalogue=catalogue,
                               responses={i.id: (2 if i.reverse else 4) for i in psych.items})
    askers = (crowd[:2] + [star, star])[:2]
    for asker, (title, body, course, reply) in zip(askers, ACADEMY_QUESTIONS, strict=False):
        question = training.ask_question(session, author=asker, title=title, body=body, course_slug=course, now=now,
                                         catalogue=catalogue)
        answerer = star if asker.id != star.id else admin
        answer = training.answer_question(session, author=answerer, question_id=question.id, body=reply, now=now)
        if answerer.id == star.id:
            training.accept_answer(session, actor=admin, answer_id=answer.id, now=now, catalogue=catalogue)
    title, body = ACADEMY_ARTICLE
    training.publish_article(session, author=admin, kind="case", title=title, body_markdown=body,
                             course_slug="ecommerce-peak", now=now, catalogue=catalogue)
