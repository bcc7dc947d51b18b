"""The double-entry ledger and the money flows around it: posting, escrow, refunds, payouts, disputes.

After every test the whole ledger is checked against design/money.md (the autouse fixture below).
"""

import dataclasses
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.campaigns.models import Campaign, CampaignStatus
from app.claims import services as claims
from app.claims.models import ClaimStatus
from app.core import clock
from app.core.db import db
from app.core.errors import Conflict, DomainError, Invalid, NotFound
from app.ledger import accounts, services
from app.ledger.journal import InsufficientFunds, LedgerError, balance_of, find, post, reverse
from app.ledger.models import (
    Dispute,
    LedgerBalance,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    TransactionKind,
)
from app.ledger.payments import SimulatedProvider
from tests.ledger_support import (
    COMMISSION_BPS,
    WINDOW,
    assert_ledger_sound,
    earnings_of,
    escrow_of,
    funded_campaign,
    settle,
    shift_of,
    top_up,
    work_shift,
)

MIN_PAYOUT = 10_000


@pytest.fixture(autouse=True)
def _ledger_stays_sound(session):
    yield
    assert_ledger_sound(session)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def wallet(org_id):
    return accounts.client_wallet(org_id)


# --- posting -----------------------------------------------------------------------------------

@pytest.mark.parametrize("legs", [
    [("client_wallet:1", 100), ("payment_provider", -99)],  # does not sum to zero
    [("client_wallet:1", 0), ("payment_provider", 0)],  # zero entries
    [("client_wallet:1", 100)],  # one leg
    [("somebody:1", 100), ("payment_provider", -100)],  # unknown account
    [("client_wallet:1", 1.5), ("payment_provider", -1.5)],  # not integer fen
])
def test_a_malformed_transaction_is_refused_before_anything_is_written(session, legs):
    with pytest.raises(LedgerError):
        post(session, key="test:1", kind=TransactionKind.TOPUP, legs=legs, now=clock.now())
    session.rollback()
    assert count(session, LedgerTransaction) == 0


def test_posting_the_same_key_twice_returns_the_first_and_writes_nothing(session, factory):
    org = factory.client().organisation_id
    legs = [(accounts.PAYMENT_PROVIDER, -5000), (wallet(org), 5000)]
    first = post(session, key="topup:abc", kind=TransactionKind.TOPUP, legs=legs, now=clock.now())
    session.commit()
    again = post(session, key="topup:abc", kind=TransactionKind.TOPUP, legs=legs, now=clock.now())
    session.commit()
    assert first.created and not again.created and again.transaction.id == first.transaction.id
    assert count(session, LedgerTransaction) == 1 and count(session, LedgerEntry) == 2
    assert balance_of(session, wallet(org)) == 5000


def test_a_protected_account_is_never_overdrawn_and_a_refused_posting_leaves_nothing(session, factory):
    org = factory.client().organisation_id
    top_up(session, org, 1000)
    with pytest.raises(InsufficientFunds) as exc:
        post(session, key="escrow:1:1", kind=TransactionKind.ESCROW, now=clock.now(),
             legs=[(wallet(org), -1001), (accounts.campaign_escrow(1), 1001)])
    assert exc.value.status == 409 and exc.value.available_fen == 1000
    session.commit()  # the savepoint was rolled back: committing the rest writes nothing of it
    assert find(session, "escrow:1:1") is None
    assert balance_of(session, wallet(org)) == 1000
    assert balance_of(session, accounts.campaign_escrow(1)) == 0


def test_the_database_itself_refuses_a_negative_protected_balance(session, factory):
    org = factory.client().organisation_id
    top_up(session, org, 1000)
    with pytest.raises(IntegrityError):
        session.execute(update(LedgerBalance).where(LedgerBalance.account == wallet(org)).values(balance_fen=-1))
    session.rollback()
    # Unprotected accounts may go negative: the payment provider's is minus what the world paid in.
    assert balance_of(session, accounts.PAYMENT_PROVIDER) == -1000


def test_entries_and_transactions_are_append_only(session, factory):
    top_up(session, factory.client().organisation_id, 1000)
    for statement in ("UPDATE ledger_entries SET amount_fen = amount_fen * 2",
                      "UPDATE ledger_transactions SET memo = 'changed'"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("DELETE FROM ledger_entries"))
        session.rollback()
    assert count(session, LedgerEntry) == 2


def test_a_reversal_mirrors_the_original_once_and_cannot_itself_be_reversed(session, factory):
    org = factory.client().organisation_id
    original = top_up(session, org, 2500).transaction
    first = reverse(session, transaction_id=original.id, now=clock.now())
    session.commit()
    second = reverse(session, transaction_id=original.id, now=clock.now())
    session.commit()
    assert first.created and not second.created and first.transaction.reverses_id == original.id
    assert balance_of(session, wallet(org)) == 0
    with pytest.raises(Conflict):
        reverse(session, transaction_id=first.transaction.id, now=clock.now())
    session.rollback()
    with pytest.raises(IntegrityError):  # the unique constraint backs the rule
        session.add(LedgerTransaction(idempotency_key="reverse:again", kind=TransactionKind.REVERSAL,
                                      memo="", reverses_id=original.id, created_at=clock.now()))
        session.flush()
    session.rollback()


def _race(app, jobs):
    """Run each callable in its own thread, app context and connection, released together."""
    db.session.rollback()  # on SQLite an open transaction here would hold the write lock
    barrier = threading.Barrier(len(jobs))
    outcomes, errors = [], []

    def worker(job):
        with app.app_context():
            session = db.session
            try:
                barrier.wait(timeout=30)
                job(session)
                session.commit()
                outcomes.append("ok")
            except DomainError as exc:
                session.rollback()
                outcomes.append(exc.code)
            except Exception as exc:  # a crash fails the test below
                session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return outcomes


def test_two_concurrent_postings_cannot_overdraw_a_wallet(app, session, factory):
    org = factory.client().organisation_id
    top_up(session, org, 10_000)

    def spend(n):
        return lambda s: post(s, key=f"escrow:{n}:1", kind=TransactionKind.ESCROW, now=clock.now(),
                              legs=[(wallet(org), -7000), (accounts.campaign_escrow(n), 7000)])

    outcomes = _race(app, [spend(1), spend(2), spend(3), spend(4)])
    assert sorted(outcomes) == ["insufficient_funds"] * 3 + ["ok"]
    assert balance_of(session, wallet(org)) == 3000


def test_the_same_key_posted_from_many_threads_is_written_once(app, session, factory):
    org = factory.client().organisation_id
    payment = SimulatedProvider().charge(organisation_id=org, amount_fen=4200, reference=uuid.uuid4().hex)
    outcomes = _race(app, [lambda s: services.top_up(s, organisation_id=org, payment=payment, now=clock.now())] * 4)
    assert outcomes == ["ok"] * 4
    assert count(session, LedgerTransaction) == 1 and balance_of(session, wallet(org)) == 4200


# --- top-up --------------------------------------------------------------------------------------

def test_a_top_up_is_credited_once_per_payment_and_per_organisation(session, factory):
    a, b = factory.client().organisation_id, factory.client().organisation_id
    reference = uuid.uuid4().hex
    assert top_up(session, a, 10_000, reference=reference).created
    assert not top_up(session, a, 10_000, reference=reference).created  # the form sent twice
    assert top_up(session, b, 10_000, reference=reference).created  # another client's payment
    assert balance_of(session, wallet(a)) == 10_000 == balance_of(session, wallet(b))
    assert balance_of(session, accounts.PAYMENT_PROVIDER) == -20_000


@pytest.mark.parametrize("amount", [0, -5, services.MAX_TOPUP_FEN + 1])
def test_a_top_up_outside_the_limits_is_refused(session, factory, amount):
    org = factory.client().organisation_id
    payment = SimulatedProvider().charge(organisation_id=org, amount_fen=amount, reference=uuid.uuid4().hex)
    with pytest.raises(Invalid):
        services.top_up(session, organisation_id=org, payment=payment, now=clock.now())
    session.rollback()
    assert count(session, LedgerTransaction) == 0


# --- publish and escrow --------------------------------------------------------------------------

def test_publishing_moves_the_budget_from_the_wallet_into_escrow(session, factory):
    campaign = funded_campaign(factory, session, budget_fen=500_000, wallet_fen=600_000)
    assert campaign.status == CampaignStatus.PUBLISHED
    assert escrow_of(session, campaign.id) == 500_000
    assert balance_of(session, wallet(campaign.organisation_id)) == 100_000
    assert find(session, f"escrow:{campaign.id}:1").kind == TransactionKind.ESCROW


def test_publishing_with_too_little_in_the_wallet_is_a_conflict_and_nothing_is_half_done(session, factory):
    owner = factory.client()
    campaign = factory.campaign(owner, tags=(), publish=False)
    top_up(session, owner.organisation_id, 300_000)
    with pytest.raises(Conflict) as exc:
        services.publish_and_fund(session, campaign, clock.now())
    assert exc.value.status == 409 and "7,000.00" in str(exc.value.message)
    session.commit()  # even committing what is left: the savepoint kept the campaign a draft
    session.refresh(campaign)
    assert campaign.status == CampaignStatus.DRAFT and campaign.published_at is None
    assert count(session, LedgerTransaction) == 1  # only the top-up
    assert balance_of(session, wallet(owner.organisation_id)) == 300_000


def test_raising_the_budget_reserves_more_and_lowering_it_stops_at_what_is_committed(session, factory):
    campaign = funded_campaign(factory, session, budget_fen=100_000, wallet_fen=200_000,
                               shifts=[(24, 2, 3)], rate_fen=6000)
    org = campaign.organisation_id

    def set_budget(fen):
        campaign.budget_fen = fen
        services.fund_campaign(session, campaign, now=clock.now(), commission_bps=COMMISSION_BPS)
        session.commit()

    set_budget(150_000)
    assert escrow_of(session, campaign.id) == 150_000 and balance_of(session, wallet(org)) == 50_000
    assert find(session, f"escrow:{campaign.id}:2").kind == TransactionKind.ESCROW
    with pytest.raises(Conflict):  # the wallet only holds 50,000 more
        set_budget(250_000)
    session.rollback()
    session.refresh(campaign)

    agent = factory.agent()
    claims.claim_shift(session, agent=agent, shift_id=shift_of(session, campaign).id, now=clock.now())
    session.commit()
    # One seat: 120 min × ¥60/h = ¥120 + 10 % commission = ¥132 committed.
    set_budget(20_000)
    assert escrow_of(session, campaign.id) == 20_000 and balance_of(session, wallet(org)) == 180_000
    with pytest.raises(Conflict) as exc:
        set_budget(13_199)
    assert "132.00" in str(exc.value.message)
    session.rollback()
    session.refresh(campaign)
    set_budget(13_200)
    assert escrow_of(session, campaign.id) == 13_200


def test_editing_a_live_campaign_budget_through_the_service_reserves_the_difference(session, factory):
    from app.campaigns.services import CampaignInput
    from app.core.timefmt import local_today

    campaign = funded_campaign(factory, session, budget_fen=100_000, wallet_fen=300_000)
    today = local_today(clock.now())
    data = CampaignInput(name=campaign.name, kind=campaign.kind, industry=campaign.industry, description="",
                         script="", required_tags=(), min_tier=campaign.min_tier,
                         rate_fen_per_hour=campaign.rate_fen_per_hour,
                         bonus_fen_per_contact=campaign.bonus_fen_per_contact, budget_fen=250_000,
                         starts_on=campaign.starts_on, ends_on=campaign.ends_on)
    services.update_and_fund(session, campaign, data=data, today=today, now=clock.now(),
                             commission_bps=COMMISSION_BPS)
    session.commit()
    assert escrow_of(session, campaign.id) == 250_000
    with pytest.raises(Conflict):
        services.update_and_fund(session, campaign, data=dataclasses.replace(data, budget_fen=400_000),
                                 today=today, now=clock.now(), commission_bps=COMMISSION_BPS)
    session.rollback()
    session.refresh(campaign)
    assert campaign.budget_fen == 250_000  # the refused edit changed nothing


# --- refunds at campaign end ---------------------------------------------------------------------

def test_an_ended_campaign_refunds_unused_escrow_keeping_what_unsettled_claims_need(session, factory):
    campaign = funded_campaign(factory, session, budget_fen=100_000, shifts=[(24, 2, 3)], rate_fen=6000)
    org = campaign.organisation_id
    shift = shift_of(session, campaign)
    agent = factory.agent()
    claim = work_shift(session, agent, shift, checked_out_after=timedelta(minutes=60))
    campaign.status = CampaignStatus.COMPLETED
    session.commit()

    # One completed, unsettled claim: 60 min × ¥60/h = ¥60 + ¥6 commission stays in escrow.
    assert services.refund_ended_campaigns(session, now=clock.now(), commission_bps=COMMISSION_BPS) == 1
    session.commit()
    assert escrow_of(session, campaign.id) == 6_600
    assert find(session, f"refund:{campaign.id}").kind == TransactionKind.REFUND
    assert services.refund_ended_campaigns(session, now=clock.now(), commission_bps=COMMISSION_BPS) == 0

    settle(session)
    assert session.get(type(claim), claim.id).status == ClaimStatus.SETTLED
    assert escrow_of(session, campaign.id) == 0 and earnings_of(session, agent.id) == 6_000
    assert balance_of(session, wallet(org)) == 100_000 - 6_600
    assert services.refund_ended_campaigns(session, now=clock.now(), commission_bps=COMMISSION_BPS) == 0


def test_money_freed_after_the_first_refund_goes_back_as_a_numbered_refund(session, factory):
    campaign = funded_campaign(factory, session, budget_fen=100_000, shifts=[(24, 2, 3)], rate_fen=6000)
    agent = factory.agent()
    claim = claims.claim_shift(session, agent=agent, shift_id=shift_of(session, campaign).id, now=clock.now())
    campaign.status = CampaignStatus.CANCELLED
    session.commit()
    services.refund_ended_campaigns(session, now=clock.now(), commission_bps=COMMISSION_BPS)
    session.commit()
    assert escrow_of(session, campaign.id) == 13_200  # a full shift is still promised
    from app.work.services import sweep_no_shows

    sweep_no_shows(session, now=claim.starts_at + timedelta(hours=1), grace=timedelta(minutes=10))
    session.commit()
    services.refund_ended_campaigns(session, now=clock.now(), commission_bps=COMMISSION_BPS)
    session.commit()
    assert escrow_of(session, campaign.id) == 0
    assert find(session, f"refund:{campaign.id}:2").kind == TransactionKind.REFUND
    assert balance_of(session, wallet(campaign.organisation_id)) == 100_000


def test_a_running_campaign_is_not_refunded(session, factory):
    campaign = funded_campaign(factory, session)
    with pytest.raises(Conflict):
        services.refund_campaign(session, campaign, now=clock.now(), commission_bps=COMMISSION_BPS)
    session.rollback()
    assert services.refund_ended_campaigns(session, now=clock.now(), commission_bps=COMMISSION_BPS) == 0


# --- payouts -------------------------------------------------------------------------------------

@pytest.fixture
def paid_agent(session, factory):
    """An agent with ¥228 settled for a 6-hour shift, settled now (dispute window open)."""
    campaign = funded_campaign(factory, session, shifts=[(24, 6, 1)])
    agent = factory.agent()
    work_shift(session, agent, shift_of(session, campaign))
    settle(session)
    return agent, campaign


def request(session, agent, amount, *, at=None):
    payout = services.request_payout(session, agent_id=agent.id, amount_fen=amount, now=at or clock.now(),
                                     min_fen=MIN_PAYOUT)
    session.commit()
    return payout


def test_earnings_inside_the_dispute_window_cannot_be_paid_out(session, paid_agent):
    agent, _ = paid_agent
    assert earnings_of(session, agent.id) == 22_800
    with pytest.raises(Conflict) as exc:
        request(session, agent, MIN_PAYOUT)
    session.rollback()
    assert "0.00" in str(exc.value.message)
    assert services.available_earnings_fen(session, agent.id, clock.now() + WINDOW + timedelta(seconds=1)) == 22_800


def test_payouts_below_the_minimum_or_above_the_balance_are_refused(session, paid_agent):
    agent, _ = paid_agent
    later = clock.now() + WINDOW + timedelta(hours=1)
    with pytest.raises(Invalid):
        request(session, agent, MIN_PAYOUT - 1, at=later)
    session.rollback()
    with pytest.raises(Conflict):
        request(session, agent, 22_801, at=later)
    session.rollback()
    assert count(session, Payout) == 0 and earnings_of(session, agent.id) == 22_800


def test_an_approved_payout_is_sent_once_and_a_rejected_one_comes_back(session, factory, paid_agent):
    agent, _ = paid_agent
    admin = factory.admin()
    later = clock.now() + WINDOW + timedelta(hours=1)
    first = request(session, agent, 12_000, at=later)
    assert earnings_of(session, agent.id) == 10_800
    assert balance_of(session, accounts.agent_payouts_pending(agent.id)) == 12_000
    services.approve_payout(session, admin_id=admin.id, payout_id=first.id, now=later)
    session.commit()
    with pytest.raises(Conflict):
        services.approve_payout(session, admin_id=admin.id, payout_id=first.id, now=later)
    session.rollback()
    with pytest.raises(Conflict):
        services.reject_payout(session, admin_id=admin.id, payout_id=first.id, now=later)
    session.rollback()
    assert balance_of(session, accounts.PAYOUTS_SENT) == 12_000
    assert balance_of(session, accounts.agent_payouts_pending(agent.id)) == 0

    second = request(session, agent, 10_800, at=later)
    services.reject_payout(session, admin_id=admin.id, payout_id=second.id, now=later)
    session.commit()
    assert session.get(Payout, second.id).status == PayoutStatus.REJECTED
    assert earnings_of(session, agent.id) == 10_800
    assert find(session, f"reverse:{find(session, f'payout:{second.id}').id}") is not None
    with pytest.raises(NotFound):
        services.approve_payout(session, admin_id=admin.id, payout_id=999_999, now=later)
    session.rollback()


def test_two_concurrent_payout_requests_cannot_take_more_than_is_available(app, session, paid_agent):
    agent_id = paid_agent[0].id  # plain ids cross threads; ORM objects stay with their session
    later = clock.now() + WINDOW + timedelta(hours=1)
    outcomes = _race(app, [lambda s: services.request_payout(s, agent_id=agent_id, amount_fen=15_000, now=later,
                                                             min_fen=MIN_PAYOUT)] * 3)
    assert sorted(outcomes) == ["conflict", "conflict", "ok"]
    assert earnings_of(session, agent_id) == 7_800


# --- disputes ------------------------------------------------------------------------------------

def _settlement(session, campaign):
    from app.ledger.models import Settlement

    return session.scalar(select(Settlement).where(Settlement.campaign_id == campaign.id))


def test_an_upheld_dispute_reverses_the_settlement_once(session, factory, paid_agent):
    agent, campaign = paid_agent
    owner_org = campaign.organisation_id
    client_user = session.scalar(select(Campaign.created_by_id).where(Campaign.id == campaign.id))
    settlement = _settlement(session, campaign)
    dispute = services.contest_settlement(session, organisation_id=owner_org, user_id=client_user,
                                          settlement_id=settlement.id, reason="坐席未接听", now=clock.now())
    session.commit()
    with pytest.raises(Conflict):  # one dispute per settlement
        services.contest_settlement(session, organisation_id=owner_org, user_id=client_user,
                                    settlement_id=settlement.id, reason="again", now=clock.now())
    session.rollback()
    # Disputed pay stays held even after the window, until an admin decides.
    assert services.available_earnings_fen(session, agent.id, clock.now() + WINDOW * 2) == 0

    admin = factory.admin()
    escrow_before = escrow_of(session, campaign.id)
    services.uphold_dispute(session, admin_id=admin.id, dispute_id=dispute.id, now=clock.now())
    session.commit()
    assert earnings_of(session, agent.id) == 0
    assert escrow_of(session, campaign.id) == escrow_before + 22_800 + 2_280
    with pytest.raises(Conflict):
        services.uphold_dispute(session, admin_id=admin.id, dispute_id=dispute.id, now=clock.now())
    session.rollback()
    reversals = session.scalar(select(func.count(LedgerTransaction.id))
                               .where(LedgerTransaction.kind == TransactionKind.REVERSAL))
    assert reversals == 1
    session.refresh(settlement)
    assert settlement.reversed_at is not None


def test_a_rejected_dispute_leaves_the_settlement_and_frees_the_pay_after_the_window(session, factory, paid_agent):
    agent, campaign = paid_agent
    settlement = _settlement(session, campaign)
    dispute = services.contest_settlement(session, organisation_id=campaign.organisation_id,
                                          user_id=campaign.created_by_id, settlement_id=settlement.id,
                                          reason="too long", now=clock.now())
    session.commit()
    services.reject_dispute(session, admin_id=factory.admin().id, dispute_id=dispute.id, now=clock.now())
    session.commit()
    assert session.get(Dispute, dispute.id).status == "rejected"
    assert services.available_earnings_fen(session, agent.id, clock.now() + WINDOW * 2) == 22_800


def test_disputes_are_refused_after_the_window_and_for_another_clients_settlement(session, factory, paid_agent):
    _, campaign = paid_agent
    settlement = _settlement(session, campaign)
    with pytest.raises(Conflict):
        services.contest_settlement(session, organisation_id=campaign.organisation_id,
                                    user_id=campaign.created_by_id, settlement_id=settlement.id, reason="late",
                                    now=settlement.disputable_until + timedelta(seconds=1))
    session.rollback()
    stranger = factory.client()
    with pytest.raises(NotFound):
        services.contest_settlement(session, organisation_id=stranger.organisation_id, user_id=stranger.id,
                                    settlement_id=settlement.id, reason="mine?", now=clock.now())
    session.rollback()
    with pytest.raises(Invalid):
        services.contest_settlement(session, organisation_id=campaign.organisation_id,
                                    user_id=campaign.created_by_id, settlement_id=settlement.id, reason="  \x00 ",
                                    now=clock.now())
    session.rollback()
    assert count(session, Dispute) == 0
