"""Settling completed claims: the pay rule, idempotency, shortfalls, batches and two workers at once."""

from datetime import timedelta

import pytest
from sqlalchemy import event, func, insert, select

from app.claims import services as claims
from app.claims.models import Claim, ClaimStatus
from app.core import clock
from app.core.db import db
from app.core.jobs import PERIODIC, run_job_now
from app.ledger import accounts
from app.ledger.journal import balance_of, find
from app.ledger.models import LedgerEntry, LedgerTransaction, Settlement, TransactionKind
from app.ledger.settlement import allocate, commission_fen, pay_due, settle_due_claims, time_pay_fen
from tests.integration.threads import in_threads
from tests.ledger_support import (
    COMMISSION_BPS,
    WINDOW,
    assert_ledger_sound,
    earnings_of,
    escrow_of,
    funded_campaign,
    settle,
    shift_of,
    work_shift,
)


@pytest.fixture(autouse=True)
def _ledger_stays_sound(session):
    yield
    assert_ledger_sound(session)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- the pay rule, as a table --------------------------------------------------------------------

@pytest.mark.parametrize("minutes, rate, expected", [
    (120, 3800, 7600),  # 2 h × ¥38
    (1, 3800, 63),  # 63.33 fen rounds down
    (1, 3870, 65),  # 64.5 fen: half rounds up
    (1, 3869, 64),  # 64.48 fen
    (59, 100, 98),  # 98.33 fen
    (90, 3333, 5000),  # 4999.5 fen rounds up
    (0, 3800, 0),
    (720, 100_000, 1_200_000),  # the largest shift at the highest rate
])
def test_time_pay_is_minutes_times_rate_over_sixty_rounded_half_up(minutes, rate, expected):
    assert time_pay_fen(minutes, rate) == expected


@pytest.mark.parametrize("pay, bps, expected", [(7600, 1000, 760), (5, 1000, 1), (4, 1000, 0), (7605, 1000, 761),
                                                (7600, 0, 0), (7600, 10_000, 7600)])
def test_commission_is_basis_points_of_pay_rounded_half_up(pay, bps, expected):
    assert commission_fen(pay, bps) == expected


def test_an_escrow_shortfall_pays_the_agent_first_then_the_commission():
    due = pay_due(worked_minutes=120, rate_fen_per_hour=3800, contacts=4, bonus_fen_per_contact=50,
                  commission_bps=1000)
    assert (due.time_pay_fen, due.bonus_fen, due.commission_fen) == (7600, 200, 780)
    assert allocate(100_000, due) == (7800, 780, 0)
    assert allocate(8000, due) == (7800, 200, 580)
    assert allocate(5000, due) == (5000, 0, 3580)
    assert allocate(0, due) == (0, 0, 8580)


# --- settling ------------------------------------------------------------------------------------

def test_a_completed_claim_is_paid_from_escrow_with_commission_to_the_platform(session, factory):
    campaign = funded_campaign(factory, session, budget_fen=100_000, bonus_fen=50)
    agent = factory.agent()
    claim = work_shift(session, agent, shift_of(session, campaign), checked_in_after=timedelta(minutes=5),
                       checked_out_after=timedelta(minutes=95))
    result = settle(session, contacts={claim.id: 3})
    assert (result.claims, result.paid_fen, result.commission_fen, result.short_claims) == (1, 5850, 585, 0)
    # 90 min × ¥38/h = ¥57.00 + 3 × ¥0.50 = ¥58.50 to the agent; 10 % (¥5.85) to the platform.
    assert earnings_of(session, agent.id) == 5850
    assert balance_of(session, accounts.PLATFORM_REVENUE) == 585
    assert escrow_of(session, campaign.id) == 100_000 - 5850 - 585
    s = session.scalar(select(Settlement).where(Settlement.claim_id == claim.id))
    assert (s.worked_minutes, s.rate_fen_per_hour, s.contacts, s.time_pay_fen, s.bonus_fen) == (90, 3800, 3, 5700, 150)
    assert s.disputable_until == clock.now() + WINDOW
    assert session.get(Claim, claim.id).status == ClaimStatus.SETTLED
    tx = find(session, f"settle:{claim.id}")
    legs = dict(session.execute(select(LedgerEntry.account, LedgerEntry.amount_fen)
                                .where(LedgerEntry.transaction_id == tx.id)).all())
    assert legs == {accounts.campaign_escrow(campaign.id): -6435, accounts.agent_earnings(agent.id): 5850,
                    accounts.PLATFORM_REVENUE: 585}


def test_settling_twice_pays_once(session, factory):
    campaign = funded_campaign(factory, session)
    agent = factory.agent()
    work_shift(session, agent, shift_of(session, campaign))
    assert settle(session).claims == 1
    assert settle(session).claims == 0
    assert earnings_of(session, agent.id) == 7600
    assert count(session, Settlement) == 1
    assert session.scalar(select(func.count(LedgerTransaction.id))
                          .where(LedgerTransaction.kind == TransactionKind.SETTLE)) == 1


def test_the_database_refuses_a_second_settlement_of_the_same_claim(session, factory):
    from sqlalchemy.exc import IntegrityError

    campaign = funded_campaign(factory, session)
    claim = work_shift(session, factory.agent(), shift_of(session, campaign))
    settle(session)
    row = {c.name: getattr(session.scalar(select(Settlement)), c.name) for c in Settlement.__table__.columns
           if c.name != "id"}
    with pytest.raises(IntegrityError):
        session.execute(insert(Settlement).values(**row))
    session.rollback()
    # Even a claim put back to 'completed' by hand cannot be paid twice: its ledger key is taken.
    session.execute(Claim.__table__.update().where(Claim.id == claim.id).values(status=ClaimStatus.COMPLETED))
    with pytest.raises(IntegrityError):
        settle_due_claims(session, now=clock.now(), commission_bps=COMMISSION_BPS, dispute_window=WINDOW)
    session.rollback()
    assert count(session, Settlement) == 1


def test_an_escrow_shortfall_caps_pay_flags_the_claim_and_never_goes_negative(session, factory):
    # Escrow of ¥100 for three 2-hour seats at ¥38/h (¥83.60 each with commission).
    campaign = funded_campaign(factory, session, budget_fen=10_000, shifts=[(24, 2, 3)])
    shift = shift_of(session, campaign)
    agents = [factory.agent() for _ in range(3)]
    worked = [work_shift(session, a, shift) for a in agents]
    result = settle(session)
    assert result.claims == 3 and result.short_claims == 2
    assert escrow_of(session, campaign.id) == 0
    paid = [session.scalar(select(Settlement).where(Settlement.claim_id == c.id)) for c in worked]
    assert [(s.paid_pay_fen, s.paid_commission_fen, s.shortfall_fen) for s in paid] == [
        (7600, 760, 0), (1640, 0, 6720), (0, 0, 8360)]
    assert [earnings_of(session, a.id) for a in agents] == [7600, 1640, 0]
    assert find(session, f"settle:{worked[2].id}") is None  # nothing moved, so no transaction


def test_claims_that_were_not_completed_are_not_settled(session, factory):
    campaign = funded_campaign(factory, session, shifts=[(24, 2, 3)])
    shift = shift_of(session, campaign)
    checked_in = factory.agent()
    claim = claims.claim_shift(session, agent=checked_in, shift_id=shift.id, now=clock.now())
    session.commit()
    from app.work.services import check_in
    from tests.ledger_support import GRACE, OPENS

    check_in(session, agent_id=checked_in.id, claim_id=claim.id, now=shift.starts_at, opens=OPENS, grace=GRACE)
    claims.claim_shift(session, agent=factory.agent(), shift_id=shift.id, now=clock.now())
    session.commit()
    assert settle(session).claims == 0
    assert count(session, Settlement) == 0


def test_a_callable_supplies_contact_counts_for_exactly_the_batch(session, factory):
    campaign = funded_campaign(factory, session, shifts=[(24, 2, 3)], bonus_fen=100)
    shift = shift_of(session, campaign)
    worked = [work_shift(session, factory.agent(), shift) for _ in range(2)]
    asked = []

    def contacts(claim_ids):
        asked.append(list(claim_ids))
        return {worked[0].id: 7}

    settle(session, contacts=contacts)
    assert asked == [[c.id for c in worked]]
    bonuses = session.execute(select(Settlement.claim_id, Settlement.bonus_fen).order_by(Settlement.claim_id)).all()
    assert [b for _, b in bonuses] == [700, 0]


def test_a_batch_costs_the_same_number_of_statements_whatever_its_size(app, session, factory):
    def statements_to_settle(n):
        campaign = funded_campaign(factory, session, budget_fen=10_000_000, shifts=[(24 + i * 3, 2, 1)
                                                                                   for i in range(n)])
        agent = factory.agent()
        for shift in factory.shifts(campaign):
            work_shift(session, agent, shift)
        seen = []

        def count_it(*args):
            seen.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count_it)
        try:
            assert settle(session).claims == n
        finally:
            event.remove(db.engine, "before_cursor_execute", count_it)
        return len(seen)

    assert statements_to_settle(2) == statements_to_settle(12)


def test_batches_are_limited_and_the_rest_waits_for_the_next_one(session, factory):
    campaign = funded_campaign(factory, session, shifts=[(24, 2, 5)])
    shift = shift_of(session, campaign)
    for _ in range(5):
        work_shift(session, factory.agent(), shift)
    assert settle(session, limit=2).claims == 2
    assert settle(session, limit=2).claims == 2
    assert settle(session, limit=2).claims == 1
    assert settle(session, limit=2).claims == 0


def test_two_workers_settling_the_same_claims_at_once_pay_each_claim_once(app, session, factory):
    campaign = funded_campaign(factory, session, budget_fen=10_000_000, shifts=[(24, 2, 40)])
    shift = shift_of(session, campaign)
    agents = [factory.agent() for _ in range(40)]
    for agent in agents:
        work_shift(session, agent, shift)
    agent_ids = [a.id for a in agents]
    session.rollback()  # SQLite: no open transaction may hold the write lock while the workers run
    now = clock.now()

    def worker(s):
        settled = settle_due_claims(s, now=now, commission_bps=COMMISSION_BPS, dispute_window=WINDOW,
                                    limit=5000).claims
        s.commit()
        return settled

    results = in_threads(app, [worker, worker], timeout=120)
    assert sum(results) == 40
    assert count(session, Settlement) == 40
    assert all(earnings_of(session, a) == 7600 for a in agent_ids)
    assert balance_of(session, accounts.PLATFORM_REVENUE) == 40 * 760


def test_the_settle_and_refund_sweeps_are_periodic_jobs(app, session, factory):
    assert {"ledger.settle_due", "ledger.refund_ended_campaigns"} <= {p.name for p in PERIODIC}
    campaign = funded_campaign(factory, session)
    agent = factory.agent()
    claim = claims.claim_shift(session, agent=agent, shift_id=shift_of(session, campaign).id, now=clock.now())
    session.commit()
    from app.work.services import check_in
    from tests.ledger_support import GRACE, OPENS

    check_in(session, agent_id=agent.id, claim_id=claim.id, now=claim.starts_at, opens=OPENS, grace=GRACE)
    session.commit()
    clock.freeze(claim.ends_at + timedelta(minutes=5))
    run_job_now("work.complete_ended_shifts")
    run_job_now("ledger.settle_due")
    assert earnings_of(session, agent.id) == 7600
    assert balance_of(session, accounts.PLATFORM_REVENUE) == 760 * app.config["PLATFORM_COMMISSION_BPS"] // 1000
