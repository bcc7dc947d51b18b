"""Demo knowledge base: articles for 鲸选优品商城's Double-11 peak and Double-12 reactivation campaigns, and
platform-wide rules, created through the services (so they are indexed like any other)."""

# ruff: noqa: E501  (article texts are prose, kept one sentence group per line)

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.kb import services

PEAK_ARTICLES = [
    ("faq", "退款多久到账？", "return", "退款 到账 原路退回 refund",
     "## 到账时间\n\n- 支付宝 / 微信：审核通过后 **1–3 个工作日**原路退回；\n- 银行卡：**3–7 个工作日**，以银行入账为准；\n"
     "- 花呗 / 信用卡分期：退回对应额度，已出账单的部分下期抵扣。\n\n## 超时未到账\n\n超过 7 个工作日仍未到账：核实订单号和退款单号，"
     "在工单系统提交“退款加急”，告诉客户 24 小时内回电。不要承诺具体到账时刻。"),
    ("policy", "双11 价保规则（退差价）", "order", "价保 退差价 降价 price protection",
     "## 能不能价保\n\n价保期 **15 天**，从客户**支付尾款**的时间开始算。同一商品、同一规格在价保期内降价，可以申请退差价。\n\n"
     "## 不在价保范围\n\n- 预售定金膨胀部分、跨店满减、平台消费券；\n- 直播间专属价、限时秒杀、赠品；\n- 已申请退货的订单。\n\n"
     "## 怎么办理\n\n订单详情 → 申请价保，系统自动比价，差价 24 小时内退回原支付账户。"),
    ("faq", "物流停滞、快递不动了怎么处理", "delivery", "物流 快递 催件 停滞 延误",
     "1. 在订单详情查看承运商轨迹，确认最后一次更新时间；\n2. 超过 **48 小时**没有更新：提交“催件”工单，告诉客户我们会联系网点；\n"
     "3. 超过 **72 小时**仍无进展：可以为客户登记**补发**或直接**退款**（二选一，由客户决定）；\n"
     "4. 大促期间包裹量大，先安抚：“双11 包裹较多，我们已经帮您催促网点优先派送。”"),
    ("policy", "七天无理由退换货规则", "return", "退货 换货 七天无理由 运费险",
     "## 条件\n\n签收后 **7 天内**，商品完好、不影响二次销售（吊牌、包装、配件齐全）。\n\n## 不支持\n\n"
     "定制商品、已拆封的贴身衣物、生鲜、虚拟商品。\n\n## 运费\n\n下单时买了**运费险**的，退货运费由保险赔付；"
     "质量问题由商家承担来回运费。换货请引导客户在订单中选“换货”，不要线下沟通。"),
    ("script", "催退款的客户情绪很大：安抚话术", "complaint", "投诉 安抚 情绪 退款",
     "> 非常理解您着急的心情，这笔钱对谁都很重要。\n\n1. 先致歉，不争辩；\n2. 复述问题：“您是 11 月 11 日申请的退款，到现在还没到账，对吗？”\n"
     "3. 给出明确的下一步和时间：“我现在为您提交加急，24 小时内给您回电。”\n4. 客户要求赔偿：按规则最多补偿 10 元无门槛券，超出请升级组长。"),
]

WAKE_ARTICLES = [
    ("script", "沉睡会员唤醒开场白（双12 会员专享券）", None, "开场白 沉睡会员 下单 双12 专享券",
     "您好，我是鲸选优品的会员顾问。看到您有一段时间没有下单了，之前累计消费也不少，所以特别给您留了一张**双12 会员专享券**：\n\n"
     "- 满 199 减 40，12 月 1 日至 12 日可用；\n- 已经放进您的账户，下单时自动抵扣。\n\n"
     "请问最近有没有想添置的东西？我可以帮您看看哪些商品能用券。"),
    ("faq", "客户问：专享券怎么用、为什么没看到？", None, "优惠券 专享券 使用 下单 抵扣",
     "专享券在 App → 我的 → 优惠券。没看到：请客户更新 App 并用**下单时的手机号**登录；仍然没有，记录备注，"
     "外呼结束后提交“补券”工单。券不能叠加跨店满减，可以和店铺券同时用。"),
    ("script", "异议处理：没时间、不需要、怎么有我电话", None, "异议 拒绝 没时间 不需要 隐私",
     "- **没时间**：“好的，不打扰您，券已经在账户里，12 日前有效。”然后礼貌结束。\n"
     "- **不需要**：不要反复推销，记录“拒绝”，感谢后挂断。\n"
     "- **怎么有我电话**：“您是我们的注册会员，电话来自您注册时留的号码；如果不希望再接到电话，我现在为您登记。”并把结果选为“勿扰”。"),
    ("policy", "勿扰登记与外呼时间规定", None, "勿扰 免打扰 外呼时间 退订",
     "外呼只在 **9:00–20:00** 之间。客户说“别再打了”“退订”“不要打扰”，必须把结果选为**勿扰**：系统不再把这个号码分给任何人。"
     "一个客户一天最多拨打 2 次，未接通的不要连续重拨。"),
]

PLATFORM_ARTICLES = [
    ("policy", "客户隐私与信息安全规则", "account", "隐私 信息安全 号码 录音 privacy",
     "## 必须做到\n\n- 号码只在工作台里“显示号码并拨打”后可见，每次显示都会记录；\n- 不抄写、不截图、不拍照客户号码和地址；\n"
     "- 核实身份只问**后四位**，不要念出完整手机号、身份证号、银行卡号。\n\n## 严禁\n\n"
     "私下加客户微信、把客户信息发给任何人、在项目外联系客户。违反的会员将被暂停接单。\n\n"
     "Privacy in short: never copy, share or read out a customer's full number, ID or card number."),
    ("policy", "遇到辱骂、骚扰怎么办 (handling abuse)", "complaint", "辱骂 骚扰 投诉 升级 abuse",
     "1. 保持冷静，不对骂：“我理解您很生气，我们一起把问题解决。”\n2. 第二次辱骂：提醒一次，“如果继续使用不文明用语，我将结束这次通话。”\n"
     "3. 仍然继续：礼貌结束通话，结果选“已接通”，备注写明原因；\n4. 威胁、性骚扰：立即结束并在备注里标记，平台会跟进。\n\n"
     "Abuse: stay calm, warn once, then end the call and note why. You never have to accept threats or harassment."),
]


def seed_kb(session: Session, *, admin, client, peak, wake, now: datetime) -> int:
    """Create the demo articles (the caller commits); returns how many."""
    count = 0
    for owner, campaign, items in ((client, peak, PEAK_ARTICLES), (client, wake, WAKE_ARTICLES),
                                   (admin, None, PLATFORM_ARTICLES)):
        for kind, title, category, tags, body in items:
            services.create_article(session, author=owner, campaign=campaign, now=now, data=services.ArticleInput(
                kind=kind, title=title, body=body, tags=tags, category=category))
            count += 1
    return count
