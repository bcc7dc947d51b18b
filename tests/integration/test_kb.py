"""Knowledge base: authoring, Chinese/English search and ranking, index sync, feedback, tenancy, the assistant."""

import pytest
from sqlalchemy import func, select

from app.claims.models import Claim
from app.core import clock
from app.core.errors import Invalid, NotAllowed, NotFound
from app.kb import queries, search, services
from app.kb.models import KbArticle, KbFeedback
from tests.integration.kb_support import article, working_agent
from tests.integration.web import assert_page, logged_in, text_of

REFUND = ("退款多久到账", "## 退款到账时间\n\n原路退回：支付宝、微信 1–3 个工作日到账，银行卡 3–7 个工作日。"
          "超过 7 天未到账，请客户提供订单号，我们提交财务加急。")
LOGISTICS = ("物流停滞怎么处理", "快递 48 小时没有更新物流信息：先查询承运商轨迹，再联系快递网点催件；"
             "超过 72 小时可以为客户登记补发或者退款。")
PRICE = ("双11 价保规则", "价保期 15 天，从支付尾款开始算。同规格商品降价可以申请退差价；"
         "定金和跨店满减不在价保范围内。")
ENGLISH = ("Refund arrives late", "A refund goes back to the original payment method. Card refunds can take "
           "3 to 7 working days; escalate after 7 days with the order number.")


@pytest.fixture
def shop(session, factory):
    owner = factory.client()
    campaign = factory.campaign(owner, tags=(), shifts=[(1, 4, 10)])
    return owner, campaign


def titles(items):
    return [s.title for s in items]


def test_chinese_search_finds_and_ranks_the_refund_article_first(session, shop):
    owner, campaign = shop
    for title, body in (REFUND, LOGISTICS, PRICE):
        article(session, owner, campaign, title, body)

    found = queries.search_articles(session, "客户问退款什么时候到账", campaign_id=campaign.id)
    assert titles(found)[0] == "退款多久到账"
    assert titles(queries.search_articles(session, "快递物流没更新", campaign_id=campaign.id))[0] == "物流停滞怎么处理"
    assert titles(queries.search_articles(session, "价保", campaign_id=campaign.id)) == ["双11 价保规则"]
    assert queries.search_articles(session, "信用卡分期", campaign_id=campaign.id) == []


def test_english_search_and_the_title_outranks_the_body(session, shop):
    owner, campaign = shop
    article(session, owner, campaign, *ENGLISH)
    article(session, owner, campaign, "Order numbers", "Where to find an order number; a refund needs one too.")
    found = queries.search_articles(session, "REFUND late", campaign_id=campaign.id)
    assert titles(found) == ["Refund arrives late", "Order numbers"]
    assert "refund" in found[0].snippet.lower()


def test_tags_are_searchable(session, shop):
    owner, campaign = shop
    article(session, owner, campaign, "开场白", "您好，这里是鲸选优品。", kind="script", tags="greeting 问候")
    assert titles(queries.search_articles(session, "greeting", campaign_id=campaign.id)) == ["开场白"]


def test_the_index_follows_edits_and_archiving_in_the_same_transaction(session, shop):
    owner, campaign = shop
    item = article(session, owner, campaign, *LOGISTICS)
    services.update_article(session, article=item, editor=owner, now=clock.now(), data=services.ArticleInput(
        kind="policy", title="发票开具", body="电子发票在确认收货后 24 小时内开具。"))
    session.commit()
    assert queries.search_articles(session, "物流", campaign_id=campaign.id) == []
    assert titles(queries.search_articles(session, "发票", campaign_id=campaign.id)) == ["发票开具"]

    assert services.archive_article(session, article=item, editor=owner, now=clock.now()) is True
    session.commit()
    assert queries.search_articles(session, "发票", campaign_id=campaign.id) == []
    assert queries.campaign_articles(session, campaign.id) == []
    assert services.archive_article(session, article=item, editor=owner, now=clock.now()) is False


def test_a_failed_edit_leaves_article_and_index_unchanged(session, shop):
    owner, campaign = shop
    item = article(session, owner, campaign, *REFUND)
    with pytest.raises(Invalid):
        services.update_article(session, article=item, editor=owner, now=clock.now(),
                                data=services.ArticleInput(kind="faq", title="   ", body="新的正文 物流"))
    session.rollback()
    assert session.get(KbArticle, item.id).title == "退款多久到账"
    assert titles(queries.search_articles(session, "退款", campaign_id=campaign.id)) == ["退款多久到账"]
    assert queries.search_articles(session, "物流", campaign_id=campaign.id) == []


@pytest.mark.parametrize("data, field", [
    ({"kind": "memo"}, "kind"),
    ({"title": "  \u202e "}, "title"),
    ({"title": "长" * 201}, "title"),
    ({"body": "x" * 20_001}, "body"),
    ({"tags": "a" * 31}, "tags"),
    ({"tags": " ".join(f"t{i}" for i in range(13))}, "tags"),
    ({"category": "weather"}, "category"),
])
def test_bad_article_input_names_the_field(session, shop, data, field):
    owner, campaign = shop
    values = {"kind": "faq", "title": "标题", "body": "正文", "tags": "", "category": None} | data
    with pytest.raises(Invalid) as caught:
        services.create_article(session, author=owner, campaign=campaign, now=clock.now(),
                                data=services.ArticleInput(**values))
    assert caught.value.field == field


def test_text_is_cleaned_and_tags_normalised(session, shop):
    owner, campaign = shop
    item = article(session, owner, campaign, "  退款\u202e 规则 \x00 ", "正文\x00", tags="退款，退款 #refund、物流")
    assert item.title == "退款 规则" and item.body_markdown == "正文"
    assert item.tags == "退款 refund 物流"


def test_only_admins_write_platform_articles_and_clients_only_their_campaigns(session, factory, shop):
    owner, campaign = shop
    with pytest.raises(NotAllowed):
        article(session, owner, None, "平台", "正文")
    stranger = factory.client()
    with pytest.raises(NotFound):
        article(session, stranger, campaign, "别人的", "正文")
    item = article(session, owner, campaign, *REFUND)
    with pytest.raises(NotFound):
        services.update_article(session, article=item, editor=stranger, now=clock.now(),
                                data=services.ArticleInput(kind="faq", title="x", body="y"))


def test_suggestions_mix_campaign_and_platform_articles_but_never_another_campaigns(session, factory, shop):
    owner, campaign = shop
    admin = factory.admin()
    article(session, owner, campaign, *REFUND)
    article(session, admin, None, "隐私规则：退款信息不外传", "不要在通话中念出完整的银行卡号和退款账户。",
            kind="policy")
    other_owner = factory.client()
    other = factory.campaign(other_owner, tags=())
    article(session, other_owner, other, "退款秘籍（别家）", "退款 到账 加急 退款")
    own_other_campaign = factory.campaign(owner, tags=())
    article(session, owner, own_other_campaign, "另一个项目的退款", "退款 到账")

    found = titles(queries.suggest(session, campaign_id=campaign.id, query="退款到账"))
    assert set(found) == {"退款多久到账", "隐私规则：退款信息不外传"}


def test_feedback_changes_the_ranking_and_is_counted_once(session, factory, shop):
    owner, campaign = shop
    first = article(session, owner, campaign, "退款到账 A", "退款 到账 时间")
    second = article(session, owner, campaign, "退款到账 B", "退款 到账 时间")
    agent, claim_id = working_agent(session, factory, campaign)
    claim = session.get(Claim, claim_id)
    before = titles(queries.suggest(session, campaign_id=campaign.id, query="退款到账"))
    loser = first if before[0] == first.title else second
    for _ in range(3):  # a repeated verdict changes nothing
        services.record_feedback(session, claim=claim, article_id=loser.id, helpful=False, contact_id=None,
                                 now=clock.now())
        session.commit()
    assert session.scalar(select(func.count()).select_from(KbFeedback)) == 1
    after = queries.suggest(session, campaign_id=campaign.id, query="退款到账")
    assert after[0].title != loser.title and after[1].title == loser.title
    assert (after[1].helped, after[1].not_helped) == (0, 1)

    services.record_feedback(session, claim=claim, article_id=loser.id, helpful=True, contact_id=None,
                             now=clock.now())
    session.commit()
    assert session.scalar(select(KbFeedback.helpful)) is True
    assert session.scalar(select(func.count()).select_from(KbFeedback)) == 1


def test_feedback_refuses_other_campaigns_articles_and_contacts(session, factory, shop):
    owner, campaign = shop
    other_owner = factory.client()
    other = factory.campaign(other_owner, tags=())
    foreign = article(session, other_owner, other, "别家", "退款")
    _agent, claim_id = working_agent(session, factory, campaign)
    claim = session.get(Claim, claim_id)
    with pytest.raises(NotFound):
        services.record_feedback(session, claim=claim, article_id=foreign.id, helpful=True, contact_id=None,
                                 now=clock.now())
    own = article(session, owner, campaign, *REFUND)
    with pytest.raises(Invalid):
        services.record_feedback(session, claim=claim, article_id=own.id, helpful=True, contact_id=999_999,
                                 now=clock.now())


def test_without_a_query_suggestions_fall_back_to_the_category(session, shop):
    owner, campaign = shop
    article(session, owner, campaign, *REFUND, category="return")
    article(session, owner, campaign, *LOGISTICS, category="delivery")
    assert titles(queries.suggest(session, campaign_id=campaign.id, query="", category="delivery"))[0] == \
        "物流停滞怎么处理"
    assert titles(queries.suggest(session, campaign_id=campaign.id, query="", category="return"))[0] == "退款多久到账"


def test_hostile_query_text_is_harmless(session, shop):
    owner, campaign = shop
    article(session, owner, campaign, *REFUND)
    for q in ['" OR 1=1 --', "scope : platform", "退款' | '!", "NEAR(a b)", "*", "\x00", "a" * 5000, "🙂 退款"]:
        queries.search_articles(session, q, campaign_id=campaign.id)
        queries.suggest(session, campaign_id=campaign.id, query=q)
    assert titles(queries.suggest(session, campaign_id=campaign.id, query="🙂 退款")) == ["退款多久到账"]


def test_query_tokens_are_bounded_and_safe():
    words = search.query_tokens("退款 " + " ".join(f"word{i}" for i in range(100)) + ' "x" NEAR(')
    assert len(words) == search.MAX_QUERY_TOKENS
    assert all(w.isalnum() for w in words)


# --- pages ------------------------------------------------------------------------------------------

def test_client_writes_searches_edits_and_archives_an_article(session, make_browser, shop):
    owner, campaign = shop
    browser = logged_in(make_browser, owner)
    assert_page(browser.get(f"/client/campaigns/{campaign.id}/kb"))
    response = browser.post(f"/client/campaigns/{campaign.id}/kb/new", {
        "kind": "faq", "title": "退款多久到账", "tags": "退款 refund", "category": "return",
        "body": "# 到账\n\n<script>alert(1)</script> [点我](javascript:alert(1)) **1–3 个工作日**"})
    assert response.status_code == 302
    item = session.scalar(select(KbArticle))
    page = assert_page(browser.get(f"/client/kb/{item.id}")).get_data(as_text=True)
    assert "<strong>1–3 个工作日</strong>" in page and "<script>alert" not in page and "javascript:" not in page
    found = text_of(assert_page(browser.get(f"/client/campaigns/{campaign.id}/kb?q=退款到账")))
    assert "退款多久到账" in found
    response = browser.post(f"/client/kb/{item.id}/edit", {"kind": "policy", "title": "退款政策", "body": "新正文",
                                                           "tags": "", "category": ""})
    assert response.status_code == 302
    assert session.get(KbArticle, item.id).title == "退款政策"
    assert browser.post(f"/client/kb/{item.id}/archive").status_code == 302
    assert_page(browser.get(f"/client/kb/{item.id}"), 404)


def test_bad_form_input_shows_errors_not_a_500(session, make_browser, shop):
    owner, campaign = shop
    browser = logged_in(make_browser, owner)
    for data in ({"kind": "faq", "title": "", "body": "x"}, {"kind": "faq", "title": "t", "body": "x" * 20_001},
                 {"kind": "bogus", "title": "t", "body": "x"}, {"kind": "faq", "title": "\u202e", "body": "x"},
                 {"kind": "faq", "title": "t", "body": "x", "category": "weather"}):
        response = browser.post(f"/client/campaigns/{campaign.id}/kb/new", data)
        assert_page(response, 400)
    assert session.scalar(select(func.count()).select_from(KbArticle)) == 0


def test_another_organisations_campaign_and_articles_are_404(session, factory, make_browser, shop):
    owner, campaign = shop
    item = article(session, owner, campaign, *REFUND)
    stranger = logged_in(make_browser, factory.client())
    assert_page(stranger.get(f"/client/campaigns/{campaign.id}/kb"), 404)
    assert_page(stranger.get(f"/client/campaigns/{campaign.id}/kb/new"), 404)
    assert_page(stranger.get(f"/client/kb/{item.id}"), 404)
    assert_page(stranger.get(f"/client/kb/{item.id}/edit"), 404)
    assert_page(stranger.post(f"/client/kb/{item.id}/archive"), 404)
    assert session.get(KbArticle, item.id).archived_at is None


def test_admin_manages_platform_articles(session, factory, make_browser, shop):
    admin = factory.admin()
    browser = logged_in(make_browser, admin)
    response = browser.post("/admin/kb/new", {"kind": "policy", "title": "Handling abuse",
                                              "body": "Stay calm, warn once, then end the call.", "tags": "abuse"})
    assert response.status_code == 302
    item = session.scalar(select(KbArticle))
    assert item.campaign_id is None and item.organisation_id is None
    assert "Handling abuse" in text_of(assert_page(browser.get("/admin/kb?q=abuse")))
    assert "Handling abuse" in text_of(assert_page(browser.get("/admin/kb")))
    assert_page(browser.get(f"/admin/kb/{item.id}"))
    assert browser.post(f"/admin/kb/{item.id}/edit", {"kind": "policy", "title": "Abuse", "body": "b"}).status_code \
        == 302
    assert session.get(KbArticle, item.id).title == "Abuse"
    # A campaign's article is not a platform article: the admin pages do not open it.
    owner, campaign = shop
    theirs = article(session, owner, campaign, *REFUND)
    for path in (f"/admin/kb/{theirs.id}", f"/admin/kb/{theirs.id}/edit"):
        assert_page(browser.get(path), 404)
    assert_page(browser.post(f"/admin/kb/{theirs.id}/archive"), 404)
    response = browser.post(f"/admin/kb/{item.id}/archive")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/kb")
    assert session.get(KbArticle, item.id).archived_at is not None and session.get(KbArticle, theirs.id).archived_at \
        is None
    assert_page(browser.get(f"/admin/kb/{item.id}"), 404)


def test_agents_read_articles_only_of_campaigns_they_hold_a_claim_in(session, factory, make_browser, shop):
    owner, campaign = shop
    item = article(session, owner, campaign, *REFUND)
    platform = article(session, factory.admin(), None, "隐私规则", "不要念出完整号码。", kind="policy")
    agent, claim_id = working_agent(session, factory, campaign)
    outsider = logged_in(make_browser, factory.agent())
    assert_page(outsider.get(f"/agent/kb/{item.id}"), 404)
    assert_page(outsider.get(f"/agent/kb/{platform.id}"))
    worker = logged_in(make_browser, agent)
    page = text_of(assert_page(worker.get(f"/agent/kb/{item.id}?claim={claim_id}")))
    assert "退款多久到账" in page and "Did this article help?" in page


def test_assist_endpoint_returns_suggestions_to_the_claims_owner_only(session, factory, make_browser, shop):
    owner, campaign = shop
    article(session, owner, campaign, *REFUND)
    article(session, owner, campaign, *LOGISTICS)
    agent, claim_id = working_agent(session, factory, campaign)
    worker = logged_in(make_browser, agent)
    response = worker.get(f"/agent/claims/{claim_id}/assist?q=客户说快递三天没动了&category=delivery")
    assert response.status_code == 200 and response.is_json
    first = response.get_json()["suggestions"][0]
    assert first["title"] == "物流停滞怎么处理" and "物流" in first["snippet"]
    assert first["url"].startswith("/agent/kb/")
    assert worker.get(f"/agent/claims/{claim_id}/assist?q=" + "退款" * 2000).status_code == 200

    other = logged_in(make_browser, factory.agent())
    assert other.get(f"/agent/claims/{claim_id}/assist?q=退款").status_code == 404
    assert logged_in(make_browser, owner).get(f"/agent/claims/{claim_id}/assist?q=退款").status_code == 403


def test_feedback_from_the_page_is_idempotent_and_needs_csrf(session, factory, make_browser, shop):
    owner, campaign = shop
    item = article(session, owner, campaign, *REFUND)
    agent, claim_id = working_agent(session, factory, campaign)
    worker = logged_in(make_browser, agent)
    url = f"/agent/claims/{claim_id}/kb/{item.id}/feedback"
    assert worker.post(url, {"helpful": "1"}, csrf=False).status_code == 400
    for _ in range(2):
        response = worker.post(url, {"helpful": "1"}, headers={"Accept": "application/json"})
        assert response.status_code == 200 and response.get_json()["ok"] is True
    assert worker.post(url, {"helpful": "1"}).status_code == 302
    assert session.scalar(select(func.count()).select_from(KbFeedback)) == 1
    assert_page(worker.post(url, {"helpful": "maybe"}), 422)
    assert worker.post(url, {"helpful": "1", "contact_id": "abc"}, headers={"Accept": "application/json"}
                       ).status_code == 422
    other = logged_in(make_browser, factory.agent())
    assert other.post(url, {"helpful": "0"}).status_code == 404
    assert session.scalar(select(KbFeedback.helpful)) is True


def test_the_console_shows_suggestions_and_a_search_form(session, factory, make_browser, shop):
    owner, campaign = shop
    article(session, owner, campaign, *REFUND)
    agent, claim_id = working_agent(session, factory, campaign)
    worker = logged_in(make_browser, agent)
    page = assert_page(worker.get(f"/agent/claims/{claim_id}/console")).get_data(as_text=True)
    assert 'id="kb-assist"' in page and "退款多久到账" in page and "js/assistant.js" in page
    assert f'action="/agent/claims/{claim_id}/kb"' in page
    found = text_of(assert_page(worker.get(f"/agent/claims/{claim_id}/kb?q=退款")))
    assert "退款多久到账" in found
    assert logged_in(make_browser, factory.agent()).get(f"/agent/claims/{claim_id}/kb?q=退款").status_code == 404
