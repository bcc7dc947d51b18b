"""Why an agent may or may not take a shift, as data the pages can show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.campaigns.models import OPEN_CAMPAIGN_STATUSES, ShiftStatus
from app.members.models import Role, Status


@dataclass(frozen=True)
class Blocker:
    code: str  # not_agent, not_active, tier, tags, overlap, started, not_open, full, already
    detail: dict = field(default_factory=dict)


def claim_blockers(
    *,
    agent_role: str,
    agent_status: str,
    agent_tier: int,
    held_tag_codes: set[str],
    campaign_status: str,
    min_tier: int,
    required_tag_codes: list[str],
    shift_status: str,
    starts_at: datetime,
    seats_left: int,
    overlaps: bool,
    already_holds: bool,
    now: datetime,
) -> list[Blocker]:
    """Every reason the agent cannot claim this seat now; empty means they can."""
    blockers: list[Blocker] = []
    if agent_role != Role.AGENT:
        return [Blocker("not_agent")]
    if agent_status != Status.ACTIVE:
        blockers.append(Blocker("not_active", {"status": agent_status}))
    if shift_status != ShiftStatus.OPEN or campaign_status not in OPEN_CAMPAIGN_STATUSES:
        blockers.append(Blocker("not_open"))
    if starts_at <= now:
        blockers.append(Blocker("started"))
    if already_holds:
        blockers.append(Blocker("already"))
    elif overlaps:
        blockers.append(Blocker("overlap"))
    if agent_tier < min_tier:
        blockers.append(Blocker("tier", {"needed": min_tier, "have": agent_tier}))
    missing = [code for code in required_tag_codes if code not in held_tag_codes]
    if missing:
        blockers.append(Blocker("tags", {"missing": missing}))
    if seats_left <= 0 and not already_holds:
        blockers.append(Blocker("full"))
    return blockers
