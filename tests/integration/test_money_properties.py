"""Property: any sequence of fund / claim / check-in / check-out / settle / settle-again / refund / reverse /
payout keeps the ledger sound (design/money.md) after every single step.

A hypothesis rule-based state machine drives the real services. Each example gets a fresh client, campaign
(five 2-hour shifts an hour apart) and agents; the clock only moves forward within an example, one shift at a
time, and the periodic sweeps (no-shows, auto-complete, settle, refund) run whenever it moves.
"""

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from app.campaigns.models import CampaignStatus, Shift
from app.claims import services as claims
from app.claims.models import Claim, ClaimStatus
from app.core import clock
from app.core.errors import DomainError
from app.ledger import services
from app.ledger.models import Dispute, Settlement
from app.ledger.payments import SimulatedProvider
from app.ledger.queries import check_invariants
from app.ledger.settlement import settle_due_claims
from app.work import services as work
from tests.ledger_support import COMMISSION_BPS, GRACE, OPENS, WINDOW

BASE = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
AGENTS, SHIFTS = 3, 5
MIN = timedelta(minutes=1)
# How an agent holding a seat works the shift: (check-in offset, check-out offset) in minutes from the start.
ATTENDANCE = {
    "no_show": None,
    "on_time": (-5, None),  # None: stays checked in; the auto-complete sweep checks out at the end
    "late": (8, 120),
    "too_late": (11, None),  # refused: the grace is over, so a no-show
    "leaves_early": (0, 45),
    "stays_after": (-15, 130),
}


def money_machine(session, factory):
    class MoneyMachine(RuleBasedStateMachine):
        @initialize(budget=st.integers(5_000, 150_000), extra=st.sampled_from([0, 10_000, -1]),
                    seats=st.lists(st.tuples(st.integers(0, AGENTS - 1), st.integers(0, SHIFTS - 1)), max_size=10))
        def setup(self, budget, extra, seats):
            clock.freeze(BASE)
            self.owner = factory.client()
            self.campaign = factory.campaign(self.owner, tags=(), publish=False,
                                             shifts=[(2 + 3 * i, 2, 2) for i in range(SHIFTS)])
            self.campaign.budget_fen = budget
            session.commit()
            self.shifts = list(session.scalars(select(Shift).where(Shift.campaign_id == self.campaign.id)
                                               .order_by(Shift.starts_at)))
            self.agents = [factory.agent() for _ in range(AGENTS)]
            self.admin_id = factory.admin().id
            self.top_up(budget + extra)  # extra -1: one fen short, so publishing is refused
            self.publish()
            for a, s in seats:
                self.claim(a, s)

        def attempt(self, unit):
            try:
                result = unit()
                session.commit()
                return result
            except DomainError:
                session.rollback()
                return None

        def is_live(self):
            return self.campaign.status in (CampaignStatus.PUBLISHED, CampaignStatus.RUNNING)

        def next_shift(self) -> Shift | None:
            return next((s for s in self.shifts if s.starts_at - OPENS > clock.now()), None)

        def sweeps(self):
            """What the periodic jobs do while time passes."""
            work.sweep_no_shows(session, now=clock.now(), grace=GRACE)
            work.complete_ended_shifts(session, now=clock.now())
            settle_due_claims(session, now=clock.now(), commission_bps=COMMISSION_BPS, dispute_window=WINDOW)
            services.refund_ended_campaigns(session, now=clock.now(), commission_bps=COMMISSION_BPS)
            session.commit()

        # ---- money in
        @rule(amount=st.integers(1, 40_000))
        def top_up(self, amount):
            payment = SimulatedProvider().charge(organisation_id=self.owner.organisation_id, amount_fen=amount,
                                                 reference=uuid.uuid4().hex)
            self.attempt(lambda: services.top_up(session, organisation_id=self.owner.organisation_id,
                                                 payment=payment, now=clock.now()))

        @precondition(lambda self: self.campaign.status == CampaignStatus.DRAFT)
        @rule()
        def publish(self):
            self.attempt(lambda: services.publish_and_fund(session, self.campaign, clock.now()))

        @precondition(lambda self: self.is_live())
        @rule(change=st.integers(-30_000, 30_000))
        def change_budget(self, change):
            def unit():
                self.campaign.budget_fen = max(1, self.campaign.budget_fen + change)
                return services.fund_campaign(session, self.campaign, now=clock.now(), commission_bps=COMMISSION_BPS)

            self.attempt(unit)
            session.refresh(self.campaign)

        # ---- work
        @precondition(lambda self: self.is_live() and self.next_shift() is not None)
        @rule(a=st.integers(0, AGENTS - 1), s=st.integers(0, SHIFTS - 1))
        def claim(self, a, s):
            self.attempt(lambda: claims.claim_shift(session, agent=self.agents[a], shift_id=self.shifts[s].id,
                                                    now=clock.now()))

        @precondition(lambda self: self.next_shift() is not None)
        @rule(ways=st.lists(st.sampled_from(sorted(ATTENDANCE)), min_size=AGENTS, max_size=AGENTS))
        def work_next_shift(self, ways):
            """The next shift happens: each seat holder checks in and out (or not) their way, time moves past it."""
            shift = self.next_shift()
            holders = {c.agent_id: c for c in session.scalars(
                select(Claim).where(Claim.shift_id == shift.id, Claim.is_active))}
            moves = []
            for agent, way in zip(self.agents, ways, strict=True):
                claim = holders.get(agent.id)
                if claim is None or ATTENDANCE[way] is None:
                    continue
                check_in_at, check_out_at = ATTENDANCE[way]
                moves.append((check_in_at, "in", claim.id, agent.id))
                if check_out_at is not None:
                    moves.append((check_out_at, "out", claim.id, agent.id))
            for minutes, what, claim_id, agent_id in sorted(moves):
                clock.freeze(max(clock.now(), shift.starts_at + minutes * MIN))
                if what == "in":
                    self.attempt(lambda a=agent_id, c=claim_id: work.check_in(
                        session, agent_id=a, claim_id=c, now=clock.now(), opens=OPENS, grace=GRACE))
                else:
                    self.attempt(lambda a=agent_id, c=claim_id: work.check_out(
                        session, agent_id=a, claim_id=c, now=clock.now()))
            clock.freeze(max(clock.now(), shift.ends_at + MIN))
            self.sweeps()

        @rule(who=st.integers(0, AGENTS - 1))
        def check_out_now(self, who):
            """An agent taps check-out on any seat they are checked in to (refused unless checked in)."""
            for claim in session.scalars(select(Claim).where(Claim.agent_id == self.agents[who].id,
                                                             Claim.status == ClaimStatus.CHECKED_IN)):
                self.attempt(lambda c=claim: work.check_out(session, agent_id=c.agent_id, claim_id=c.id,
                                                            now=clock.now()))

        # ---- settlement, refunds, disputes, payouts
        @rule()
        def settle_twice(self):
            settle_due_claims(session, now=clock.now(), commission_bps=COMMISSION_BPS, dispute_window=WINDOW)
            session.commit()
            again = settle_due_claims(session, now=clock.now(), commission_bps=COMMISSION_BPS,
                                      dispute_window=WINDOW)
            session.commit()
            assert again.claims == 0, "a second settle run found claims the first one left"

        @precondition(lambda self: self.is_live() and clock.now() > self.shifts[0].ends_at)
        @rule()
        def cancel_campaign(self):
            """The client cancels (mid-way or after the last shift); the refund sweep returns unused escrow."""
            self.attempt(lambda: claims.cancel_campaign(session, campaign=self.campaign, actor_id=self.owner.id,
                                                        now=clock.now()))
            self.sweeps()

        @rule()
        def refund(self):
            services.refund_ended_campaigns(session, now=clock.now(), commission_bps=COMMISSION_BPS)
            session.commit()

        @rule(pick=st.integers(0, 10), uphold=st.booleans())
        def dispute(self, pick, uphold):
            rows = list(session.scalars(select(Settlement.id).where(Settlement.campaign_id == self.campaign.id)
                                        .order_by(Settlement.id)))
            if not rows:
                return
            settlement_id = rows[pick % len(rows)]
            self.attempt(lambda: services.contest_settlement(
                session, organisation_id=self.owner.organisation_id, user_id=self.owner.id,
                settlement_id=settlement_id, reason="抽查", now=clock.now()))
            dispute = session.scalar(select(Dispute).where(Dispute.settlement_id == settlement_id))
            if dispute is not None:
                decide = services.uphold_dispute if uphold else services.reject_dispute
                self.attempt(lambda: decide(session, admin_id=self.admin_id, dispute_id=dispute.id,
                                            now=clock.now()))
            self.sweeps()

        @rule(a=st.integers(0, AGENTS - 1), amount=st.integers(5_000, 20_000), approve=st.booleans(),
              after_window=st.booleans())
        def payout(self, a, amount, approve, after_window):
            # Asking "as of" after the dispute window keeps the shared clock where the shifts are.
            at = clock.now() + (WINDOW + MIN if after_window else timedelta(0))
            payout = self.attempt(lambda: services.request_payout(session, agent_id=self.agents[a].id,
                                                                  amount_fen=amount, now=at, min_fen=5_000))
            if payout is not None:
                decide = services.approve_payout if approve else services.reject_payout
                self.attempt(lambda: decide(session, admin_id=self.admin_id, payout_id=payout.id, now=at))

        # ---- after every step
        @invariant()
        def ledger_is_sound(self):
            session.rollback()
            assert check_invariants(session) == []
            active = session.scalar(select(func.count(Claim.id)).where(Claim.campaign_id == self.campaign.id,
                                                                      Claim.is_active))
            taken = session.scalar(select(func.coalesce(func.sum(Shift.seats_taken), 0))
                                   .where(Shift.campaign_id == self.campaign.id))
            assert active == taken, "seats taken and active claims disagree"

        def teardown(self):
            session.rollback()
            clock.freeze(BASE)

    return MoneyMachine


def test_random_money_sequences_keep_every_ledger_invariant(session, factory):
    run_state_machine_as_test(money_machine(session, factory), settings=settings(
        max_examples=25, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
