"""Reads over members for the admin area."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from app.members.models import AgentTag, AuditLog, Role, Status, Tag, User


@dataclass(frozen=True)
class MemberFilters:
    q: str | None = None
    role: str | None = None
    status: str | None = None
    tier: int | None = None
    tag: str | None = None
    city: str | None = None


def search_members(session: Session, filters: MemberFilters, *, page: int, per_page: int) -> tuple[list[User], int]:
    query = select(User)
    if filters.q:
        like = f"%{filters.q.replace('%', '').replace('_', '')}%"
        query = query.where(or_(User.name.ilike(like), User.email.ilike(like), User.phone.ilike(like)))
    if filters.role:
        query = query.where(User.role == filters.role)
    if filters.status:
        query = query.where(User.status == filters.status)
    if filters.tier is not None:
        query = query.where(User.tier == filters.tier)
    if filters.city:
        query = query.where(User.city == filters.city)
    if filters.tag:
        query = query.where(select(AgentTag.id).join(Tag, Tag.id == AgentTag.tag_id).where(
            AgentTag.agent_id == User.id, Tag.code == filters.tag, AgentTag.revoked_at.is_(None)).exists())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = list(session.scalars(query.order_by(User.created_at.desc(), User.id.desc())
                                 .offset((page - 1) * per_page).limit(per_page)))
    return users, total


def verification_queue(session: Session, limit: int = 200) -> list[User]:
    return list(session.scalars(select(User).where(User.role == Role.AGENT, User.status == Status.PENDING)
                                .order_by(User.created_at).limit(limit)))


def tags_of(session: Session, agent_id: int) -> list[AgentTag]:
    """Live grants first, then history."""
    return list(session.scalars(
        select(AgentTag).options(joinedload(AgentTag.tag)).where(AgentTag.agent_id == agent_id)
        .order_by(AgentTag.revoked_at.is_not(None), AgentTag.granted_at.desc())
    ))


def cities(session: Session) -> list[str]:
    return [c for c in session.scalars(select(User.city).where(User.city.is_not(None)).distinct().order_by(User.city))]


def audit_entries(session: Session, *, page: int, per_page: int, target_id: int | None = None) -> list[AuditLog]:
    query = select(AuditLog).options(joinedload(AuditLog.actor))
    if target_id is not None:
        query = query.where(AuditLog.target_type == "user", AuditLog.target_id == target_id)
    return list(session.scalars(query.order_by(AuditLog.id.desc()).offset((page - 1) * per_page).limit(per_page)))


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(User.role, User.status, func.count(User.id)).group_by(User.role, User.status)).all()
    result: dict[str, int] = {}
    for role, status, n in rows:
        result[f"{role}.{status}"] = n
        result[role] = result.get(role, 0) + n
    return result


def team_of(session: Session, organisation_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.organisation_id == organisation_id).order_by(User.created_at)))


def open_invitations(session: Session, organisation_id: int) -> list:
    from app.members.models import Invitation

    return list(session.scalars(select(Invitation).where(
        Invitation.organisation_id == organisation_id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.created_at.desc())))
