"""The console's knowledge-base assistant in a real phone browser: suggestions follow the typed notes, and
"Helped" records feedback without leaving the console (assistant.js, under the site's CSP)."""

from playwright.sync_api import expect
from sqlalchemy import func, select

from app.kb.models import KbFeedback
from tests.factories import PASSWORD
from tests.integration.kb_support import article, working_agent


def test_suggestions_follow_the_notes_and_feedback_is_recorded(phone, lang, session, factory):
    owner = factory.client()
    campaign = factory.campaign(owner, tags=(), shifts=[(1, 4, 5)])
    article(session, owner, campaign, "退款多久到账", "原路退回 1–3 个工作日到账。", category="return")
    article(session, owner, campaign, "物流停滞怎么处理", "快递 48 小时没有更新物流：提交催件工单。",
            category="delivery")
    article(session, owner, campaign, "Refund timing", "Refunds reach the card in 3 to 7 working days.")
    agent, claim_id = working_agent(session, factory, campaign)
    session.commit()

    device = phone("agent")
    device.login(agent.email, PASSWORD)
    device.goto(f"/agent/claims/{claim_id}/console", "console")
    suggestions = device.page.locator("#kb-suggestions")
    assert suggestions.locator("li").count() >= 1

    device.page.fill("textarea[name=notes]", "客户说快递三天没动了，物流一直不更新")
    suggestions.locator("li").first.filter(has_text="物流停滞怎么处理").wait_for()
    device.page.fill("textarea[name=notes]", "customer asks when the refund reaches the card")
    suggestions.locator("li").first.filter(has_text="Refund timing").wait_for()

    first = suggestions.locator("li").first
    first.locator("button.btn").first.click()  # Helped
    expect(first.locator(".kb-feedback span")).not_to_have_text("")  # the thanks message, in place
    session.rollback()
    assert session.scalar(select(func.count()).select_from(KbFeedback).where(KbFeedback.helpful.is_(True))) == 1
    assert not device.problems, device.problems  # no JavaScript or CSP errors while typing
    assert device.path() == f"/agent/claims/{claim_id}/console"
