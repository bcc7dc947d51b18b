"""A business's first campaign in a phone browser, in Chinese and in English.

Registers with the real form → tops up the wallet → creates a campaign with the campaign form → adds shifts from a
pattern → publishes (the budget moves from the wallet into escrow) → reads the campaign list, the wallet and the
campaign's dashboard, then switches the language in the header.
"""

from __future__ import annotations

from datetime import timedelta

from app.core import clock
from app.core.timefmt import local_today
from tests.factories import PASSWORD

DASHBOARD = "insight.campaign_dashboard"


def test_client_registers_posts_funds_and_follows_a_campaign(phone, lang, app):
    today = local_today(clock.now())
    shift_day = today + timedelta(days=2)
    name = "双11 售后高峰" if lang == "zh" else "Double 11 after-sales"
    client = phone("client")

    # --- registration ------------------------------------------------------------------------------
    client.goto("/", "home")
    client.submit(client.link("Register your business").first, "register-form")
    assert client.t("Register your business") in client.text("h1")
    client.page.fill("#organisation", "小梅电商" if lang == "zh" else "Xiaomei Online")
    client.page.select_option("#industry", "industry.ecommerce")
    client.page.fill("#name", "王经理" if lang == "zh" else "Manager Wang")
    client.page.fill("#email", f"boss-{lang}@example.cn")
    client.page.fill("#phone", "13900139000")
    client.page.fill("#password", PASSWORD)
    client.page.fill("#confirm", PASSWORD)
    client.submit(client.button("Create business account"), "registered")
    client.sees("Your business account is ready. Create your first campaign.")
    client.sees("No campaigns yet. Create one for your next peak.")

    # --- money in the wallet ----------------------------------------------------------------------------
    client.submit(client.nav("Wallet"), "wallet")
    client.page.fill("#amount", "5000")
    client.submit(client.button("Pay and top up"), "topped-up")
    assert "¥5,000.00" in client.text(".stats") or "¥5000.00" in client.text(".stats")

    # --- the campaign form ------------------------------------------------------------------------------
    client.submit(client.nav("New"), "campaign-form")
    assert client.t("New campaign") in client.text("h1")
    client.page.fill("#name", name)
    client.page.select_option("#kind", "inbound")
    client.page.select_option("#industry", "industry.ecommerce")
    client.page.fill("#description", "大促期间的售后咨询：退换货、物流、发票。")
    client.page.fill("#script", "您好，这里是小梅电商售后，请问有什么可以帮您？")
    client.page.fill("#rate", "36.00")
    client.page.fill("#bonus", "0.50")
    client.page.fill("#budget", "3000")
    client.page.fill("#starts_on", today.isoformat())
    client.page.fill("#ends_on", (today + timedelta(days=14)).isoformat())
    client.submit(client.button("Save"), "campaign-created")
    client.sees("Campaign created as a draft. Add shifts, then publish.")
    campaign_id = int(client.path().split("/")[3])

    # --- shifts from a pattern: 09:00–13:00 in two-hour blocks, three seats each --------------------------------
    client.page.fill("#first_day", shift_day.isoformat())
    client.page.fill("#last_day", shift_day.isoformat())
    client.page.fill("#day_start", "09:00")
    client.page.fill("#day_end", "13:00")
    client.page.fill("#block_minutes", "120")
    client.page.fill("#seats", "3")
    client.submit(client.button("Add shifts"), "shifts-added")
    shifts = client.page.locator("section.card", has_text=client.t("Shifts")).last.locator("ul.list > li")
    assert shifts.count() == 2
    assert "0/3" in shifts.first.inner_text()

    # --- publish: the budget goes into escrow ---------------------------------------------------------------
    client.submit(client.button("Publish"), "published")
    client.sees("Published: the budget is in escrow and eligible agents can now grab seats.")
    client.submit(client.nav("Wallet"), "wallet-escrow")
    escrow = client.page.locator("ul.list > li", has_text=name)
    assert escrow.count() == 1
    assert "¥3,000.00" in escrow.inner_text() or "¥3000.00" in escrow.inner_text()

    # --- the campaign list --------------------------------------------------------------------------------------
    client.submit(client.nav("Campaigns"), "campaigns")
    row = client.page.locator("ul.cards > li", has_text=name)
    assert client.t("%(n)d shifts") % {"n": 2} in row.inner_text()

    # --- the campaign's dashboard (app/insight) ------------------------------------------------------------
    assert DASHBOARD in app.view_functions
    client.submit(row.get_by_role("link", name=name), "campaign")
    response = client.submit(client.page.locator(f'a[href="/client/campaigns/{campaign_id}/dashboard"]'), "dashboard")
    assert response.status == 200
    assert name in client.text("main")

    # --- the header's switch: the same page in the other language, and the choice sticks --------------------
    dashboard = client.path()
    client.switch_language("other-language")
    assert client.path() == dashboard
    client.submit(client.nav("Wallet"), "wallet-other-language")
    assert client.t("Wallet") in client.text("h1")
