"""The demo's knowledge base: the star agent working the outbound console gets relevant Chinese suggestions."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.campaigns.models import Campaign
from app.claims.models import Claim, ClaimStatus
from app.contacts import services as contacts
from app.core import clock
from app.demo import DEMO_PASSWORD, seed
from app.kb import queries
from app.kb.models import KbArticle
from app.members.models import User
from app.work import services as work
from tests.integration.web import assert_page, logged_in, text_of


@pytest.fixture
def seeded(session, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    assert seed(session, agents=6, now=clock.now()) is True
    return session


def test_the_demo_agent_gets_chinese_suggestions_in_the_outbound_console(seeded, app, make_browser):
    wake = seeded.scalar(select(Campaign).where(Campaign.name.contains("沉睡")))
    peak = seeded.scalar(select(Campaign).where(Campaign.name.contains("双11 售后")))
    assert seeded.scalar(select(func.count()).where(KbArticle.campaign_id == peak.id)) >= 4
    assert seeded.scalar(select(func.count()).where(KbArticle.campaign_id.is_(None))) >= 2
    assert [s.title for s in queries.suggest(seeded, campaign_id=peak.id, query="客户问价保退差价")][0] == \
        "双11 价保规则（退差价）"

    star = seeded.scalar(select(User).where(User.email == "agent@demo.local"))
    claim = seeded.scalar(select(Claim).where(Claim.agent_id == star.id, Claim.campaign_id == wake.id,
                                              Claim.status == ClaimStatus.CLAIMED))
    at = clock.now() + timedelta(minutes=1)
    work.check_in(seeded, agent_id=star.id, claim_id=claim.id, now=at,
                  opens=timedelta(minutes=app.config["CHECKIN_OPENS_MINUTES"]),
                  grace=timedelta(minutes=app.config["NO_SHOW_GRACE_MINUTES"]))
    seeded.commit()
    clock.freeze(at)
    assert contacts.next_contact(seeded, agent_id=star.id, claim_id=claim.id, now=at) is not None
    seeded.commit()

    browser = logged_in(make_browser, star, DEMO_PASSWORD)
    page = text_of(assert_page(browser.get(f"/agent/claims/{claim.id}/console")))
    assert "沉睡会员唤醒开场白" in page  # matched from the contact's note (days without an order, spend)
    typed = browser.get(f"/agent/claims/{claim.id}/assist?q=客户说不需要，问怎么有我电话").get_json()
    assert typed["suggestions"][0]["title"] == "异议处理：没时间、不需要、怎么有我电话"
    coupon = browser.get(f"/agent/claims/{claim.id}/assist?q=客户说专享优惠券没看到").get_json()
    assert coupon["suggestions"][0]["title"] == "客户问：专享券怎么用、为什么没看到？"
    titles = {s["title"] for s in coupon["suggestions"]}
    assert not titles & {"退款多久到账？", "双11 价保规则（退差价）"}  # the peak campaign's articles stay there
