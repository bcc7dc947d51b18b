"""An agent's whole first shift in a phone browser, in Chinese and in English.

Registers with the real form → an admin (another phone) verifies them in the queue → passes the required Academy
courses (answers from the catalogue) → grabs a seat on the board → checks in → works an outbound call list in the
console (reveals numbers, records outcomes) → checks out → sees the pay once the settlement job has run.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core import clock, jobs
from app.members.models import User
from tests.browser.data import BONUS_FEN, CALL_LIST, RATE_FEN, SUCCESS_FEN, outbound_campaign
from tests.factories import PASSWORD
from tests.integration.academy_helpers import catalogue
from tests.ledger_support import earnings_of


def _pass_quiz(agent, slug: str) -> None:
    """Open the course, start the quiz and tick the catalogue's right answers for the drawn questions."""
    course = catalogue().course(slug)
    title = course.title.zh if agent.lang == "zh" else course.title.en
    agent.submit(agent.nav("Academy"), f"academy-{slug}")
    agent.submit(agent.page.get_by_role("link", name=title).first, f"course-{slug}")
    assert title in agent.text("h1")
    agent.submit(agent.button("Start the quiz"), f"quiz-{slug}")
    page = agent.page
    question_ids = page.eval_on_selector_all(
        "fieldset.academy-question input", "els => [...new Set(els.map(e => e.name.slice(2)))]")
    assert len(question_ids) == course.questions_per_attempt
    for question_id in question_ids:
        for option_id in course.question(question_id).correct_option_ids:
            page.locator(f'input[name="q-{question_id}"][value="{option_id}"]').check()
    agent.submit(agent.button("Submit answers"), f"result-{slug}")
    assert agent.t("Passed") in agent.text(".card")
    assert "100%" in agent.text(".academy-score")


def test_agent_registers_trains_works_a_shift_and_gets_paid(phone, lang, app, session, factory, tmp_path):
    admin = factory.admin()
    admin_email = admin.email
    outbound = outbound_campaign(factory, session, tmp_path, lang)
    campaign_name, starts_at, ends_at = outbound.name, outbound.starts_at, outbound.ends_at
    email = f"new-agent-{lang}@example.cn"

    # --- registration, with the real form ------------------------------------------------------------
    agent = phone("agent")
    agent.goto("/", "home")
    agent.submit(agent.link("Join as an agent").first, "register-form")
    assert agent.t("Join as an agent") in agent.text("h1")
    agent.page.fill("#name", "李小梅" if lang == "zh" else "Li Xiaomei")
    agent.page.fill("#email", email)
    agent.page.fill("#phone", "13800138000")
    agent.page.fill("#city", "成都" if lang == "zh" else "Chengdu")
    agent.page.locator("input[name=languages]").first.check()
    agent.page.fill("#password", PASSWORD)
    agent.page.fill("#confirm", PASSWORD)
    agent.submit(agent.button("Create my account"), "registered")
    agent.sees("Welcome! An admin will verify your account. Meanwhile, start the Academy.")

    # --- an admin verifies them, on another phone ------------------------------------------------------
    boss = phone("admin")
    boss.login(admin_email, PASSWORD)
    assert boss.path() == "/admin/"
    boss.submit(boss.page.locator('main a[href="/admin/verification"]'), "verification-queue")
    assert boss.t("Verification queue") in boss.text("h1")
    waiting = boss.page.locator("ul.list > li", has_text=email)
    assert waiting.count() == 1
    boss.submit(waiting.get_by_role("button", name=boss.t("Verify")), "verified")
    assert email not in boss.text("main")

    # --- the required Academy courses ----------------------------------------------------------------------
    for slug in catalogue().required_slugs:
        _pass_quiz(agent, slug)

    # --- grab a seat on the board --------------------------------------------------------------------------
    agent.submit(agent.nav("Shifts"), "board")
    card = agent.page.locator("li.shift", has_text=campaign_name)
    assert card.count() == 1
    agent.submit(card.locator("a.cover"), "shift")
    agent.submit(agent.button("Grab a seat"), "grabbed")
    agent.sees("You hold a seat on this shift.")

    # --- check in when check-in opens ------------------------------------------------------------------------
    clock.freeze(starts_at - timedelta(minutes=5))
    agent.submit(agent.nav("My shifts"), "my-shifts")
    agent.submit(agent.button("Check in"), "checked-in")
    agent.submit(agent.link("Open console"), "console")
    assert campaign_name in agent.text("h1")

    # --- the console: two contacts, numbers revealed, outcomes recorded ------------------------------------------
    clock.freeze(starts_at + timedelta(minutes=10))
    for n, outcome in enumerate(("reactivated", "refused"), start=1):
        agent.submit(agent.button("Next contact"), f"contact-{n}")
        masked = agent.text(".contact .number")
        assert "****" in masked, masked
        agent.submit(agent.button("Show the number and call"), f"contact-{n}-revealed")
        call = agent.page.locator('.contact a[href^="tel:"]')
        assert call.get_attribute("href").removeprefix("tel:").replace(" ", "") in CALL_LIST
        agent.page.locator(f'input[name="outcome"][value="{outcome}"]').check()
        agent.page.fill("#duration_seconds", "95")
        agent.page.fill("#notes", "愿意回来看看" if outcome == "reactivated" else "不需要")
        agent.submit(agent.button("Save outcome"), f"contact-{n}-saved")
        assert agent.t("Successes: %(n)d") % {"n": 1} in agent.text("main")
    assert agent.t("Handled this shift: %(n)d") % {"n": 2} in agent.text("main")

    # --- check out at the end of the shift ---------------------------------------------------------------------
    clock.freeze(ends_at)
    agent.goto("/agent/my-shifts", "before-check-out")
    agent.submit(agent.button("Check out"), "checked-out")
    assert agent.t("%(n)d minutes worked") % {"n": 120} in agent.text("main")

    # --- the worker settles; the agent sees the pay ------------------------------------------------------------
    clock.freeze(ends_at + timedelta(minutes=5))
    session.rollback()
    jobs.run_job_now("ledger.settle_due")
    agent_id = session.scalar(select(User.id).where(User.email == email))
    expected_fen = 120 * RATE_FEN // 60 + 2 * BONUS_FEN + 1 * SUCCESS_FEN
    assert earnings_of(session, agent_id) == expected_fen
    session.rollback()
    agent.submit(agent.nav("Earnings"), "earnings")
    assert agent.t("Earnings") in agent.text("h1")
    paid = agent.page.locator("ul.list > li", has_text=campaign_name)
    assert paid.locator(".pay").inner_text() == f"¥{expected_fen / 100:.2f}"
    assert agent.t("Held in the dispute window") in agent.text(".stats")
