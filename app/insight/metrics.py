"""A campaign's contact-centre metrics (design/metrics.md), computed from the stored events.

`campaign_metrics()` is the one entry point: the client's dashboard, its CSV/XLSX exports and the REST API
all read the same dictionary. It is JSON-serialisable and its keys are stable (documented in docs/insight.md):
counts are ints, money is integer fen in `*_fen` keys, ratios are floats rounded to 4 decimals, or None when
the denominator is zero (shown as "—", never a division by zero).

Every figure comes from a fixed number of grouped SQL statements (16, whatever the number of shifts, claims,
contacts or surveys): rows come back per agent, per shift, per survey score or per hour, never per contact.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, distinct, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from app.campaigns.models import Campaign, CampaignStatus, Shift, ShiftStatus
from app.claims.models import Claim, ClaimStatus
from app.contacts.models import (
    REACHED_OUTCOMES,
    SUCCESS_OUTCOMES,
    ContactAttempt,
    InboundCategory,
    InboundContact,
    Resolution,
)
from app.core.errors import NotFound
from app.core.sqlfuncs import parse_hour, plus_days, utc_hour
from app.core.timefmt import local
from app.ledger import accounts
from app.ledger.models import LedgerBalance, LedgerEntry, LedgerTransaction, Settlement, TransactionKind
from app.ledger.services import committed_fen
from app.members.models import User
from app.quality.models import FlagStatus, Inspection, QaFlag, Survey

# Claims that held their seat when the shift started (released and client-cancelled seats went back to the pool).
SEAT_HOLDING = (ClaimStatus.CLAIMED, ClaimStatus.CHECKED_IN, ClaimStatus.COMPLETED, ClaimStatus.SETTLED,
                ClaimStatus.NO_SHOW)
WORKED = (ClaimStatus.CHECKED_IN, ClaimStatus.COMPLETED, ClaimStatus.SETTLED)
ENDED_STATUSES = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)
HOURS_SHOWN = 48  # the hourly chart covers the last two days of the campaign
# A resolved inbound contact followed by another from the same customer within this many days was not resolved
# at the first contact (design/metrics.md).
REPEAT_WINDOW_DAYS = 7


def ratio(numerator: int | float, denominator: int | float, digits: int = 4) -> float | None:
    """numerator ÷ denominator rounded, or None when the denominator is zero (undefined, shown as "—")."""
    if not denominator:
        return None
    return round(numerator / denominator, digits)


def fen_per(total_fen: int, count: int) -> int | None:
    """Money per unit in whole fen (half-up), or None when there are no units."""
    if not count:
        return None
    return (2 * total_fen + count) // (2 * count)


def _setting(name: str, given, default):
    if given is not None:
        return given
    if has_app_context():
        return current_app.config.get(name, default)
    return default


def campaign_metrics(session: Session, *, campaign_id: int, now: datetime, grace_minutes: int | None = None,
                     commission_bps: int | None = None) -> dict:
    """Every metric of one campaign at `now` (live while it runs, final once it has ended). NotFound if missing.

    Tenancy is the caller's job (the view checks the organisation before calling).
    """
    grace = timedelta(minutes=_setting("NO_SHOW_GRACE_MINUTES", grace_minutes, 10))
    bps = _setting("PLATFORM_COMMISSION_BPS", commission_bps, 1000)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_l("No such campaign."))
    cid = campaign.id

    # 1. Shifts and their claims, per shift (fill and attendance, and the daily series).
    due_cut = now - grace
    claim_rows = session.execute(
        select(
            Claim.shift_id,
            func.count().filter(Claim.status.in_(SEAT_HOLDING)),
            func.count().filter(or_(Claim.status.in_(WORKED + (ClaimStatus.NO_SHOW,)),
                                    and_(Claim.status == ClaimStatus.CLAIMED, Claim.starts_at <= due_cut))),
            func.count().filter(Claim.checked_in_at.is_not(None), Claim.status.in_(WORKED)),
            func.count().filter(or_(Claim.status == ClaimStatus.NO_SHOW,
                                    and_(Claim.status == ClaimStatus.CLAIMED, Claim.starts_at <= due_cut))),
            func.count().filter(Claim.status == ClaimStatus.LATE_CANCELLED),
            func.coalesce(func.sum(Claim.worked_minutes), 0),
        ).where(Claim.campaign_id == cid).group_by(Claim.shift_id)
    ).all()
    by_shift = {row[0]: row[1:] for row in claim_rows}
    shift_rows = session.execute(
        select(Shift.id, Shift.starts_at, Shift.seats).where(Shift.campaign_id == cid,
                                                             Shift.status == ShiftStatus.OPEN)
    ).all()

    days: dict[str, dict] = defaultdict(lambda: {"seats_offered": 0, "seats_claimed": 0, "claims_due": 0,
                                                 "no_shows": 0, "contacts": 0})
    seats_offered = seats_claimed = 0
    for shift_id, starts_at, seats in shift_rows:
        held = by_shift.get(shift_id, (0, 0, 0, 0, 0, 0))[0]
        claimed = min(seats, held)  # a no-show's seat handed to the waitlist is one seat, not two
        seats_offered += seats
        seats_claimed += claimed
        day = days[local(starts_at).date().isoformat()]
        day["seats_offered"] += seats
        day["seats_claimed"] += claimed
    claims_due = showed_up = no_shows = late_cancellations = worked_minutes = 0
    starts = dict((row[0], row[1]) for row in shift_rows)
    for shift_id, (_held, due, showed, missed, late, minutes) in by_shift.items():
        claims_due += due
        showed_up += showed
        no_shows += missed
        late_cancellations += late
        worked_minutes += int(minutes or 0)
        if shift_id in starts:
            day = days[local(starts[shift_id]).date().isoformat()]
            day["claims_due"] += due
            day["no_shows"] += missed

    # 2. Outbound attempts per agent, and per contact (the contact and success rates count customers).
    reached = ContactAttempt.outcome.in_([o.value for o in REACHED_OUTCOMES])
    success = ContactAttempt.outcome.in_([o.value for o in SUCCESS_OUTCOMES])
    agents: dict[int, dict] = defaultdict(_agent_row)
    attempts = attempt_seconds = 0
    for agent_id, n, n_success, seconds in session.execute(
        select(ContactAttempt.agent_id, func.count(), func.count().filter(success),
               func.coalesce(func.sum(ContactAttempt.duration_seconds), 0))
        .where(ContactAttempt.campaign_id == cid).group_by(ContactAttempt.agent_id)
    ):
        row = agents[agent_id]
        row["contacts"] += n
        row["successes"] += n_success
        row["handle_seconds"] += int(seconds)
        attempts += n
        attempt_seconds += int(seconds)
    attempted, contacts_reached, contacts_success = session.execute(
        select(func.count(distinct(ContactAttempt.contact_id)),
               func.count(distinct(case((reached, ContactAttempt.contact_id)))),
               func.count(distinct(case((success, ContactAttempt.contact_id)))))
        .where(ContactAttempt.campaign_id == cid)
    ).one()

    # 3. Inbound conversations per agent, with first-contact resolution: resolved, and no later contact of the
    # same customer (same reference hash) on this campaign within REPEAT_WINDOW — a correlated NOT EXISTS on
    # the (campaign_id, customer_ref_hash, created_at) index, inside the same grouped statement.
    repeated = _followed_by_repeat()
    resolved = InboundContact.resolution == Resolution.RESOLVED
    inbound = inbound_resolved = inbound_fcr = repeats = complaints = inbound_seconds = 0
    for agent_id, n, n_resolved, n_fcr, n_repeats, n_complaints, seconds in session.execute(
        select(InboundContact.agent_id, func.count(),
               func.count().filter(resolved),
               func.count().filter(resolved, ~repeated),
               func.count().filter(repeated),
               func.count().filter(InboundContact.category == InboundCategory.COMPLAINT),
               func.coalesce(func.sum(InboundContact.duration_seconds), 0))
        .where(InboundContact.campaign_id == cid).group_by(InboundContact.agent_id)
    ):
        row = agents[agent_id]
        row["contacts"] += n
        row["handle_seconds"] += int(seconds)
        inbound += n
        inbound_resolved += n_resolved
        inbound_fcr += n_fcr
        repeats += n_repeats
        complaints += n_complaints
        inbound_seconds += int(seconds)
    contacts_handled = attempts + inbound
    handle_seconds = attempt_seconds + inbound_seconds

    # 4. Contacts per UTC hour (both sources), mapped to local hours and days.
    hourly: dict[datetime, int] = defaultdict(int)
    for model in (ContactAttempt, InboundContact):
        bucket = utc_hour(model.created_at)
        for hour, n in session.execute(
            select(bucket, func.count()).where(model.campaign_id == cid).group_by(bucket)
        ):
            hourly[parse_hour(hour)] += n
    for hour, n in hourly.items():
        days[local(hour).date().isoformat()]["contacts"] += n

    # 5. Surveys per agent and score (score NULL: not answered yet).
    distribution = {str(s): 0 for s in range(1, 6)}
    surveys_sent = 0
    for agent_id, score, n in session.execute(
        select(Survey.agent_id, Survey.score, func.count()).where(Survey.campaign_id == cid)
        .group_by(Survey.agent_id, Survey.score)
    ):
        surveys_sent += n
        if score is not None:
            distribution[str(int(score))] += n
            row = agents[agent_id]
            row["surveys_answered"] += n
            if score >= 4:
                row["satisfied"] += n
    surveys_answered = sum(distribution.values())
    satisfied = distribution["4"] + distribution["5"]

    # 6. QA: flags per agent and status; inspected contacts and those with a confirmed flag.
    flags = {s.value: 0 for s in FlagStatus}
    for agent_id, status, n in session.execute(
        select(QaFlag.agent_id, QaFlag.status, func.count()).where(QaFlag.campaign_id == cid)
        .group_by(QaFlag.agent_id, QaFlag.status)
    ):
        flags[status] = flags.get(status, 0) + n
        if status == FlagStatus.CONFIRMED:
            agents[agent_id]["flags_confirmed"] += n
    inspected = session.scalar(select(func.count()).select_from(Inspection).where(Inspection.campaign_id == cid))
    flagged_attempts, flagged_inbound = session.execute(
        select(func.count(distinct(QaFlag.attempt_id)), func.count(distinct(QaFlag.inbound_id)))
        .where(QaFlag.campaign_id == cid, QaFlag.status == FlagStatus.CONFIRMED)
    ).one()
    flagged_contacts = int(flagged_attempts) + int(flagged_inbound)

    # 7. Shifts worked per agent (with the agent's display name).
    for agent_id, name, n_shifts, n_claims, minutes in session.execute(
        select(Claim.agent_id, User.name, func.count().filter(Claim.status.in_(WORKED)),
               func.count().filter(Claim.status.in_(SEAT_HOLDING)),
               func.coalesce(func.sum(Claim.worked_minutes), 0))
        .join(User, User.id == Claim.agent_id)
        .where(Claim.campaign_id == cid).group_by(Claim.agent_id, User.name)
    ):
        row = agents[agent_id]
        row["name"] = name
        row["shifts"] = n_shifts
        row["claims"] = n_claims
        row["worked_minutes"] = int(minutes)

    # 8. Money: settlements (net of reversals) per agent, escrow movements, what escrow still holds and owes.
    settled_pay = settled_commission = settled_contacts = settled_successes = 0
    for agent_id, pay, commission, n_contacts, n_successes in session.execute(
        select(Settlement.agent_id, func.coalesce(func.sum(Settlement.paid_pay_fen), 0),
               func.coalesce(func.sum(Settlement.paid_commission_fen), 0),
               func.coalesce(func.sum(Settlement.contacts), 0), func.coalesce(func.sum(Settlement.successes), 0))
        .where(Settlement.campaign_id == cid, Settlement.reversed_at.is_(None)).group_by(Settlement.agent_id)
    ):
        agents[agent_id]["pay_fen"] += int(pay)
        settled_pay += int(pay)
        settled_commission += int(commission)
        settled_contacts += int(n_contacts)
        settled_successes += int(n_successes)
    escrow_account = accounts.campaign_escrow(cid)
    by_kind = dict(session.execute(
        select(LedgerTransaction.kind, func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account == escrow_account).group_by(LedgerTransaction.kind)
    ).all())
    escrowed = int(by_kind.get(TransactionKind.ESCROW, 0)) + int(by_kind.get(TransactionKind.ESCROW_RELEASE, 0))
    refunded = -int(by_kind.get(TransactionKind.REFUND, 0))
    held = int(session.scalar(select(LedgerBalance.balance_fen).where(LedgerBalance.account == escrow_account)) or 0)
    committed = committed_fen(session, [cid], commission_bps=bps)[cid]
    settled = settled_pay + settled_commission

    # The per-agent table, busiest first.
    agent_list = []
    for agent_id, row in agents.items():
        agent_list.append({
            "agent_id": agent_id,
            "name": row["name"] or "",
            "shifts": row["shifts"],
            "worked_minutes": row["worked_minutes"],
            "contacts": row["contacts"],
            "successes": row["successes"],
            "aht_seconds": ratio(row["handle_seconds"], row["contacts"], 1),
            "surveys_answered": row["surveys_answered"],
            "csat": ratio(row["satisfied"], row["surveys_answered"]),
            "flags_confirmed": row["flags_confirmed"],
            "pay_fen": row["pay_fen"],
        })
    agent_list.sort(key=lambda a: (-a["contacts"], -a["shifts"], a["name"], a["agent_id"]))

    hour_floor = (now - timedelta(hours=HOURS_SHOWN - 1)).replace(minute=0, second=0, microsecond=0)
    hours = []
    shown = [h for h in hourly if h >= hour_floor]
    if shown:  # every hour from the first contact in the window to the last, quiet hours as zero bars
        hour, last = min(shown), max(shown)
        while hour <= last:
            hours.append({"hour": local(hour).isoformat(), "contacts": hourly.get(hour, 0)})
            hour += timedelta(hours=1)
    if days:  # every calendar day between the first and the last, so a quiet day shows as a gap in the chart
        first, last_day = date.fromisoformat(min(days)), date.fromisoformat(max(days))
        for offset in range((last_day - first).days):
            key = (first + timedelta(days=offset)).isoformat()
            if key not in days:
                days[key] = days.default_factory()
    day_list = []
    for day in sorted(days):
        d = days[day]
        day_list.append({"date": day, **d, "fill_rate": ratio(d["seats_claimed"], d["seats_offered"]),
                         "no_show_rate": ratio(d["no_shows"], d["claims_due"])})

    return {
        "campaign_id": cid,
        "campaign_name": campaign.name,
        "kind": campaign.kind,
        "status": campaign.status,
        "is_final": campaign.status in ENDED_STATUSES,
        "computed_at": now.isoformat(),
        # seats and attendance
        "shifts": len(shift_rows),
        "seats_offered": seats_offered,
        "seats_claimed": seats_claimed,
        "fill_rate": ratio(seats_claimed, seats_offered),
        "claims_due": claims_due,
        "claims_showed_up": showed_up,
        "no_shows": no_shows,
        "late_cancellations": late_cancellations,
        "show_up_rate": ratio(showed_up, claims_due),
        "no_show_rate": ratio(no_shows, claims_due),
        "worked_minutes": worked_minutes,
        # contacts
        "contacts_handled": contacts_handled,
        "outbound_attempts": attempts,
        "outbound_contacts_attempted": int(attempted),
        "outbound_contacts_reached": int(contacts_reached),
        "outbound_contacts_succeeded": int(contacts_success),
        "contact_rate": ratio(contacts_reached, attempted),
        "success_rate": ratio(contacts_success, contacts_reached),
        "inbound_contacts": inbound,
        "inbound_resolved": inbound_resolved,
        "inbound_first_contact_resolved": inbound_fcr,
        "inbound_repeat_contacts": repeats,
        "first_contact_resolution": ratio(inbound_fcr, inbound),
        "repeat_contact_rate": ratio(repeats, inbound),
        "handle_seconds": handle_seconds,
        "aht_seconds": ratio(handle_seconds, contacts_handled, 1),
        "complaints": complaints,
        "complaint_rate": ratio(complaints, contacts_handled),
        # customer satisfaction
        "surveys_sent": surveys_sent,
        "surveys_answered": surveys_answered,
        "survey_response_rate": ratio(surveys_answered, surveys_sent),
        "csat_satisfied": satisfied,
        "csat": ratio(satisfied, surveys_answered),
        "csat_distribution": distribution,
        # quality inspection
        "qa_inspected": int(inspected or 0),
        "qa_flags_open": flags.get(FlagStatus.OPEN, 0),
        "qa_flags_confirmed": flags.get(FlagStatus.CONFIRMED, 0),
        "qa_flags_dismissed": flags.get(FlagStatus.DISMISSED, 0),
        "qa_contacts_flagged": flagged_contacts,
        "qa_pass_rate": ratio(int(inspected or 0) - flagged_contacts, int(inspected or 0)),
        # money
        "budget_fen": int(campaign.budget_fen),
        "escrowed_fen": escrowed,
        "settled_pay_fen": settled_pay,
        "settled_commission_fen": settled_commission,
        "settled_fen": settled,
        "committed_fen": int(committed),
        "refunded_fen": refunded,
        "escrow_held_fen": held,
        "budget_burn": ratio(settled + committed, escrowed),
        "settled_contacts": settled_contacts,
        "settled_successes": settled_successes,
        "cost_per_contact_fen": fen_per(settled, settled_contacts),
        "cost_per_success_fen": fen_per(settled, settled_successes),
        # tables and series
        "agents": agent_list,
        "days": day_list,
        "hours": hours,
    }


def _followed_by_repeat():
    """True for an inbound contact with a customer reference that another inbound contact of the same campaign
    and the same reference follows within REPEAT_WINDOW_DAYS (later, or at the same time with a higher id).

    The number of such contacts equals the number of contacts that came back within the window after an
    earlier one (per customer, each consecutive pair less than the window apart counts once on each side).
    """
    later = aliased(InboundContact, name="later_contact")
    return exists(
        select(later.id).where(
            later.campaign_id == InboundContact.campaign_id,
            later.customer_ref_hash == InboundContact.customer_ref_hash,
            later.created_at >= InboundContact.created_at,
            later.created_at <= plus_days(InboundContact.created_at, literal_column(str(REPEAT_WINDOW_DAYS))),
            or_(later.created_at > InboundContact.created_at, later.id > InboundContact.id),
        ).correlate(InboundContact)
    )


def _agent_row() -> dict:
    return {"name": None, "shifts": 0, "claims": 0, "worked_minutes": 0, "contacts": 0, "successes": 0,
            "handle_seconds": 0, "surveys_answered": 0, "satisfied": 0, "flags_confirmed": 0, "pay_fen": 0}
