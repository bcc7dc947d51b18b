"""The pages around work and money: check in/out on My shifts, the wallet, earnings and the admin's Money page."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.campaigns.models import CampaignStatus
from app.claims import services as claims
from app.claims.models import Claim, ClaimStatus
from app.core import clock
from app.ledger import accounts
from app.ledger.journal import balance_of
from app.ledger.models import Dispute, LedgerTransaction, Payout, Settlement
from tests.integration.web import assert_page, logged_in, redirected_to, text_of
from tests.ledger_support import assert_ledger_sound, funded_campaign, settle, shift_of, top_up, work_shift


@pytest.fixture(autouse=True)
def _ledger_stays_sound(session):
    yield
    assert_ledger_sound(session)


def reference_on(response) -> str:
    return re.search(r'name="reference" type="hidden" value="([0-9a-f]{32})"', response.get_data(as_text=True)).group(1)


# --- My shifts: check in and out -----------------------------------------------------------------

@pytest.fixture
def seat(session, factory):
    shift = factory.shifts(factory.campaign(tags=(), shifts=[(24, 2, 3)]))[0]
    agent = factory.agent()
    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    return shift, agent, claim


def test_my_shifts_offers_check_in_only_inside_the_window_then_check_out(session, make_browser, seat):
    shift, agent, claim = seat
    web = logged_in(make_browser, agent)
    page = text_of(assert_page(web.get("/agent/my-shifts")))
    assert "Check in" not in page and "Check-in opens at" in page
    assert_page(web.post(f"/agent/claims/{claim.id}/check-in"), 409)  # too early: refused, said why
    assert session.get(Claim, claim.id).status == ClaimStatus.CLAIMED

    clock.freeze(shift.starts_at - timedelta(minutes=10))
    assert "Check in" in text_of(assert_page(web.get("/agent/my-shifts")))
    assert redirected_to(web.post(f"/agent/claims/{claim.id}/check-in"), "/agent/my-shifts")
    page = text_of(assert_page(web.get("/agent/my-shifts")))
    assert "Checked in. Have a good shift!" in page and "Check out early" in page

    clock.freeze(shift.starts_at + timedelta(minutes=50))
    assert redirected_to(web.post(f"/agent/claims/{claim.id}/check-out"), "/agent/my-shifts")
    assert "Checked out early: 50 minutes worked." in text_of(web.get("/agent/my-shifts"))
    session.expire_all()
    done = session.get(Claim, claim.id)
    assert done.status == ClaimStatus.COMPLETED and done.worked_minutes == 50 and done.left_early


def test_another_agents_claim_cannot_be_checked_in_and_get_is_not_allowed(session, factory, make_browser, seat):
    shift, _, claim = seat
    intruder = logged_in(make_browser, factory.agent())
    clock.freeze(shift.starts_at)
    assert_page(intruder.post(f"/agent/claims/{claim.id}/check-in"), 404)
    assert_page(intruder.get(f"/agent/claims/{claim.id}/check-in"), 405)
    assert_page(intruder.post(f"/agent/claims/{claim.id}/check-in", csrf=False), 400)
    assert session.get(Claim, claim.id).status == ClaimStatus.CLAIMED


# --- the client's wallet -------------------------------------------------------------------------

@pytest.fixture
def owner(factory):
    return factory.client()


def test_a_client_tops_up_and_a_second_send_of_the_same_form_credits_once(session, make_browser, owner):
    web = logged_in(make_browser, owner)
    page = assert_page(web.get("/client/wallet"))
    reference = reference_on(page)
    form = {"amount": "1,234.56", "reference": reference}
    assert redirected_to(web.post("/client/wallet/top-up", form), "/client/wallet")
    assert redirected_to(web.post("/client/wallet/top-up", form), "/client/wallet")
    assert balance_of(session, accounts.client_wallet(owner.organisation_id)) == 123_456
    assert "¥1,234.56" in text_of(web.get("/client/wallet"))


@pytest.mark.parametrize("amount, status", [("0", 422), ("-5", 422), ("100.005", 422), ("NaN", 422),
                                            ("1e309", 422), ("abc", 422), ("", 400),
                                            ("99999999999999999999", 422)])
def test_hostile_top_up_amounts_are_refused_and_nothing_is_credited(session, make_browser, owner, amount, status):
    web = logged_in(make_browser, owner)
    reference = reference_on(web.get("/client/wallet"))
    assert_page(web.post("/client/wallet/top-up", {"amount": amount, "reference": reference}), status)
    assert session.scalar(select(func.count(LedgerTransaction.id))) == 0


def test_a_forged_reference_is_refused(session, make_browser, owner):
    web = logged_in(make_browser, owner)
    assert_page(web.post("/client/wallet/top-up", {"amount": "10", "reference": "../../etc"}), 422)
    assert session.scalar(select(func.count(LedgerTransaction.id))) == 0


def test_publishing_from_the_campaign_page_needs_the_budget_in_the_wallet(session, factory, make_browser, owner):
    campaign = factory.campaign(owner, tags=(), publish=False)  # budget ¥10,000
    web = logged_in(make_browser, owner)
    response = assert_page(web.post(f"/client/campaigns/{campaign.id}/publish"), 409)
    assert "Top up ¥10,000.00 in the wallet first." in text_of(response)
    session.refresh(campaign)
    assert campaign.status == CampaignStatus.DRAFT
    top_up(session, owner.organisation_id, 1_000_000)
    assert redirected_to(web.post(f"/client/campaigns/{campaign.id}/publish"), f"/client/campaigns/{campaign.id}")
    session.refresh(campaign)
    assert campaign.status == CampaignStatus.PUBLISHED
    page = text_of(web.get("/client/wallet"))
    assert campaign.name in page and "¥10,000.00" in page


def test_a_client_contests_a_settlement_and_an_admin_upholds_it(session, factory, make_browser, owner):
    campaign = funded_campaign(factory, session, owner=owner)
    agent = factory.agent()
    work_shift(session, agent, shift_of(session, campaign))
    settle(session)
    settlement = session.scalar(select(Settlement))
    web = logged_in(make_browser, owner)
    page = text_of(assert_page(web.get("/client/wallet")))
    assert "Contest" in page and agent.name in page
    assert_page(web.post(f"/client/settlements/{settlement.id}/dispute", {"reason": "   "}), 400)
    assert redirected_to(web.post(f"/client/settlements/{settlement.id}/dispute",
                                  {"reason": "<script>alert(1)</script> 未接听"}), "/client/wallet")
    assert_page(web.post(f"/client/settlements/{settlement.id}/dispute", {"reason": "again"}), 409)
    stranger = logged_in(make_browser, factory.client())
    assert_page(stranger.post(f"/client/settlements/{settlement.id}/dispute", {"reason": "mine"}), 404)

    admin = logged_in(make_browser, factory.admin())
    page = assert_page(admin.get("/admin/money"))
    assert "&lt;script&gt;" in page.get_data(as_text=True)  # shown escaped
    dispute = session.scalar(select(Dispute))
    assert redirected_to(admin.post(f"/admin/disputes/{dispute.id}/uphold"), "/admin/money")
    assert_page(admin.post(f"/admin/disputes/{dispute.id}/uphold"), 409)
    assert balance_of(session, accounts.agent_earnings(agent.id)) == 0


# --- the agent's earnings ------------------------------------------------------------------------

def test_the_earnings_page_shows_the_calculation_and_refuses_payouts_above_the_balance(session, factory,
                                                                                       make_browser):
    campaign = funded_campaign(factory, session, shifts=[(24, 6, 1)])
    agent = factory.agent()
    work_shift(session, agent, shift_of(session, campaign), checked_out_after=timedelta(minutes=300))
    settle(session)
    web = logged_in(make_browser, agent)
    page = text_of(assert_page(web.get("/agent/earnings")))
    assert "300 min × ¥38.00/h = ¥190.00" in page and "− nothing = ¥190.00" in page
    assert_page(web.post("/agent/payouts", {"amount": "150"}), 409)  # still inside the dispute window

    clock.freeze(clock.now() + timedelta(hours=49))
    assert_page(web.post("/agent/payouts", {"amount": "190.01"}), 409)
    assert_page(web.post("/agent/payouts", {"amount": "99.99"}), 422)  # under the ¥100 minimum
    assert_page(web.post("/agent/payouts", {"amount": "-100"}), 422)
    assert session.scalar(select(func.count(Payout.id))) == 0
    assert redirected_to(web.post("/agent/payouts", {"amount": "150"}), "/agent/earnings")
    assert "¥40.00" in text_of(web.get("/agent/earnings"))  # what is left available

    admin = logged_in(make_browser, factory.admin())
    payout = session.scalar(select(Payout))
    assert "150.00" in text_of(admin.get("/admin/money"))
    assert redirected_to(admin.post(f"/admin/payouts/{payout.id}/approve"), "/admin/money")
    assert_page(admin.post(f"/admin/payouts/{payout.id}/approve"), 409)
    assert balance_of(session, accounts.PAYOUTS_SENT) == 15_000


# --- the admin's Money page and roles ------------------------------------------------------------

def test_the_admin_money_page_runs_the_ledger_check(session, factory, make_browser):
    funded_campaign(factory, session)
    admin = logged_in(make_browser, factory.admin())
    page = text_of(assert_page(admin.get("/admin/money?check=1")))
    assert "All invariants hold." in page and "¥10,000.00" in page


@pytest.mark.parametrize("role, path", [
    ("agent", "/client/wallet"), ("agent", "/admin/money"), ("client", "/agent/earnings"),
    ("client", "/admin/money"), ("admin", "/client/wallet"), ("admin", "/agent/earnings"),
])
def test_each_money_page_belongs_to_one_role(factory, make_browser, role, path):
    user = {"agent": factory.agent, "client": factory.client, "admin": factory.admin}[role]()
    assert_page(logged_in(make_browser, user).get(path), 403)


def test_money_pages_render_in_chinese_with_the_bottom_navigation(factory, make_browser, session):
    for user, path, nav in [(factory.agent(), "/agent/earnings", "收入"), (factory.client(), "/client/wallet", "钱包"),
                            (factory.admin(), "/admin/money", "资金")]:
        web = make_browser()
        web.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
        web.login(user.email)
        page = text_of(assert_page(web.get(path)))
        assert nav in page, path
