"""Member mutations: registration, login checks, verification, tags, suspension, audit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.errors import Conflict, Invalid, NotAllowed, NotFound
from app.core.text import clean_text
from app.members.models import (
    AgentTag,
    AuditLog,
    Invitation,
    Organisation,
    Role,
    Status,
    Tag,
    TagSource,
    Tier,
    User,
)
from app.members.tags import LANGUAGE_CODES

# "demo.local" must be accepted for the local demo logins; production refuses those logins separately.
if "local" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
    email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("local")

PASSWORD_METHOD = "scrypt"  # nosec B105  # a hash method name (Werkzeug's scrypt, memory-hard), not a password
PASSWORD_MIN = 8
PASSWORD_MAX = 256
INVITATION_DAYS = 7


def normalise_email(raw: str) -> str:
    """Trimmed, syntax-checked and lower-cased, so 'A@x.cn ' and 'a@x.cn' are one account."""
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise Invalid(_l("Enter a valid email address."), field="email") from None


def normalise_phone(raw: str) -> str:
    """A mobile or landline number in E.164, read as Chinese unless it has a country code."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise Invalid(_l("Enter a valid phone number."), field="phone")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise Invalid(_l("Enter a valid phone number."), field="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid(_l("Enter a valid phone number."), field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_password_policy(password: str) -> None:
    if len(password or "") < PASSWORD_MIN:
        raise Invalid(_l("Use at least %(n)d characters.", n=PASSWORD_MIN), field="password")
    if len(password) > PASSWORD_MAX:
        raise Invalid(_l("Use at most %(n)d characters.", n=PASSWORD_MAX), field="password")


def hash_password(password: str) -> str:
    check_password_policy(password)
    return generate_password_hash(password, method=PASSWORD_METHOD)


def audit(session: Session, *, actor_id: int | None, action: str, target_type: str, target_id: int | None,
          now: datetime, **detail) -> None:
    """Every admin action lands here."""
    session.add(AuditLog(actor_id=actor_id, action=action, target_type=target_type, target_id=target_id,
                         detail=detail, created_at=now))


def _require_text(value: str | None, field: str, max_len: int) -> str:
    return clean_text(value, field=field, max_len=max_len, single_line=True)


def _email_free(session: Session, email: str) -> None:
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(_l("An account with this email already exists."), field="email")


def _add_user(session: Session, user: User) -> User:
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(_l("An account with this email already exists."), field="email") from None
    return user


@dataclass(frozen=True)
class AgentSignup:
    name: str
    email: str
    phone: str
    city: str
    languages: tuple[str, ...]
    password: str


def register_agent(session: Session, signup: AgentSignup, *, now: datetime) -> User:
    """A new agent starts as a pending trainee until an admin verifies them."""
    email = normalise_email(signup.email)
    languages = tuple(dict.fromkeys(signup.languages))
    unknown = [code for code in languages if code not in LANGUAGE_CODES]
    if unknown or not languages:
        raise Invalid(_l("Choose the languages you speak from the list."), field="languages")
    user = User(
        email=email,
        name=_require_text(signup.name, "name", 80),
        phone=normalise_phone(signup.phone),
        city=_require_text(signup.city, "city", 40),
        languages=",".join(languages),
        password_hash=hash_password(signup.password),
        role=Role.AGENT,
        status=Status.PENDING,
        tier=Tier.TRAINEE,
        created_at=now,
        session_version=1,
        failed_logins=0,
    )
    _email_free(session, email)
    return _add_user(session, user)


@dataclass(frozen=True)
class ClientSignup:
    organisation: str
    industry: str | None
    name: str
    email: str
    phone: str
    password: str


def register_client(session: Session, signup: ClientSignup, *, now: datetime) -> User:
    """A business registers its organisation together with its first user."""
    email = normalise_email(signup.email)
    org = Organisation(name=_require_text(signup.organisation, "organisation", 120), industry=signup.industry,
                       created_at=now)
    user = User(
        email=email,
        name=_require_text(signup.name, "name", 80),
        phone=normalise_phone(signup.phone),
        password_hash=hash_password(signup.password),
        role=Role.CLIENT,
        status=Status.ACTIVE,
        tier=Tier.TRAINEE,
        organisation=org,
        created_at=now,
        session_version=1,
        failed_logins=0,
    )
    _email_free(session, email)
    session.add(org)
    return _add_user(session, user)


def create_admin(session: Session, *, email: str, name: str, password: str, now: datetime) -> User:
    email = normalise_email(email)
    _email_free(session, email)
    user = User(email=email, name=_require_text(name, "name", 80), password_hash=hash_password(password),
                role=Role.ADMIN, status=Status.ACTIVE, tier=Tier.TRAINEE, created_at=now, session_version=1,
                failed_logins=0)
    return _add_user(session, user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_colleague(session: Session, *, inviter: User, email: str, now: datetime) -> tuple[Invitation, str]:
    """Returns the invitation and its one-time token (only its hash is stored)."""
    if not inviter.is_client:
        raise NotAllowed(_l("Only client users can invite colleagues."))
    email = normalise_email(email)
    _email_free(session, email)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(organisation_id=inviter.organisation_id, email=email, token_hash=_token_hash(token),
                            invited_by_id=inviter.id, created_at=now,
                            expires_at=now + timedelta(days=INVITATION_DAYS))
    session.add(invitation)
    session.flush()
    return invitation, token


def find_invitation(session: Session, token: str, *, now: datetime) -> Invitation:
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token or "")))
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= now:
        raise NotFound(_l("This invitation link is invalid or has expired."))
    return invitation


def accept_invitation(session: Session, *, token: str, name: str, phone: str, password: str,
                      now: datetime) -> User:
    invitation = find_invitation(session, token, now=now)
    claimed = session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=now)
    )
    if claimed.rowcount != 1:
        raise Conflict(_l("This invitation has already been used."))
    user = User(email=invitation.email, name=_require_text(name, "name", 80), phone=normalise_phone(phone),
                password_hash=hash_password(password), role=Role.CLIENT, status=Status.ACTIVE,
                tier=Tier.TRAINEE, organisation_id=invitation.organisation_id, created_at=now,
                session_version=1, failed_logins=0)
    _email_free(session, invitation.email)
    return _add_user(session, user)


class LoginFailed(Invalid):
    code = "login_failed"


def authenticate(session: Session, *, email: str, password: str, now: datetime, max_failures: int,
                 lock_minutes: int) -> User:
    """Check a password; lock the account for a while after repeated failures."""
    generic = _l("Wrong email or password.")
    try:
        email = normalise_email(email)
    except Invalid:
        raise LoginFailed(generic) from None
    user = session.scalar(select(User).where(User.email == email))
    if user is None or len(password or "") > PASSWORD_MAX:
        check_password_hash(_DUMMY_HASH, password[:PASSWORD_MAX] if password else "")  # same time as a real check
        raise LoginFailed(generic)
    if user.locked_until and user.locked_until > now:
        raise LoginFailed(_l("Too many failed attempts. Try again in %(n)d minutes.", n=lock_minutes),
                          code="locked")
    if not check_password_hash(user.password_hash, password or ""):
        failures = user.failed_logins + 1
        user.failed_logins = failures
        if failures >= max_failures:
            user.failed_logins = 0
            user.locked_until = now + timedelta(minutes=lock_minutes)
        session.flush()
        raise LoginFailed(generic)
    if user.status == Status.SUSPENDED:
        raise LoginFailed(_l("This account is suspended. Contact support."), code="suspended")
    user.failed_logins = 0
    user.locked_until = None
    return user


_DUMMY_HASH = generate_password_hash("surgeline-timing-equaliser")


def end_sessions(session: Session, user_id: int) -> None:
    """Invalidate every live session of a member (logout everywhere, suspension)."""
    session.execute(update(User).where(User.id == user_id).values(session_version=User.session_version + 1))


def get_agent(session: Session, agent_id: int) -> User:
    agent = session.get(User, agent_id)
    if agent is None or agent.role != Role.AGENT:
        raise NotFound(_l("No such agent."))
    return agent


def get_tag(session: Session, code: str) -> Tag:
    tag = session.scalar(select(Tag).where(Tag.code == code))
    if tag is None:
        raise Invalid(_l("Unknown tag."), field="tag")
    return tag


def verify_agent(session: Session, *, admin: User, agent_id: int, now: datetime) -> User:
    """Admin check of a new agent: activates them and confirms their declared languages as tags."""
    agent = get_agent(session, agent_id)
    if agent.status != Status.PENDING:
        raise Conflict(_l("This agent is not waiting for verification."))
    agent.status = Status.ACTIVE
    agent.verified_at = now
    for code in agent.language_codes:
        _grant(session, agent, get_tag(session, code), source=TagSource.ADMIN, granted_by=admin.id, now=now,
               expires_at=None, reason="verified at sign-up")
    audit(session, actor_id=admin.id, action="agent.verify", target_type="user", target_id=agent.id, now=now)
    return agent


def live_tag(session: Session, agent_id: int, tag_id: int) -> AgentTag | None:
    return session.scalar(
        select(AgentTag).where(AgentTag.agent_id == agent_id, AgentTag.tag_id == tag_id, AgentTag.revoked_at.is_(None))
    )


def _grant(session: Session, agent: User, tag: Tag, *, source: str, granted_by: int | None, now: datetime,
           expires_at: datetime | None, reason: str | None, level: int = 1) -> AgentTag:
    """Grant or renew: an existing live grant is replaced (kept as history) by the new one."""
    existing = live_tag(session, agent.id, tag.id)
    if existing is not None:
        existing.revoked_at = now
        existing.revoked_by_id = granted_by
        existing.revoke_reason = "renewed"
        level = max(level, existing.level)
        session.flush()
    grant = AgentTag(agent_id=agent.id, tag_id=tag.id, source=source, level=level, granted_at=now,
                     granted_by_id=granted_by, expires_at=expires_at, reason=reason)
    session.add(grant)
    session.flush()
    return grant


def grant_tag(session: Session, *, admin: User, agent_id: int, tag_code: str, reason: str,
              expires_at: datetime | None, now: datetime) -> AgentTag:
    agent = get_agent(session, agent_id)
    tag = get_tag(session, tag_code)
    reason = _require_text(reason, "reason", 500)
    if expires_at is not None and expires_at <= now:
        raise Invalid(_l("The expiry must be in the future."), field="expires_on")
    grant = _grant(session, agent, tag, source=TagSource.ADMIN, granted_by=admin.id, now=now,
                   expires_at=expires_at, reason=reason)
    audit(session, actor_id=admin.id, action="tag.grant", target_type="user", target_id=agent.id, now=now,
          tag=tag.code, reason=reason, expires_at=expires_at.isoformat() if expires_at else None)
    return grant


def grant_tag_from_academy(session: Session, *, agent_id: int, tag_code: str, expires_at: datetime | None,
                           now: datetime, reason: str) -> AgentTag:
    """Used by the Academy when a certification is earned."""
    agent = get_agent(session, agent_id)
    return _grant(session, agent, get_tag(session, tag_code), source=TagSource.ACADEMY, granted_by=None, now=now,
                  expires_at=expires_at, reason=reason)


def revoke_tag(session: Session, *, admin: User, agent_id: int, tag_code: str, reason: str,
               now: datetime) -> AgentTag:
    agent = get_agent(session, agent_id)
    tag = get_tag(session, tag_code)
    reason = _require_text(reason, "reason", 500)
    grant = live_tag(session, agent.id, tag.id)
    if grant is None:
        raise Conflict(_l("The agent does not hold this tag."))
    grant.revoked_at = now
    grant.revoked_by_id = admin.id
    grant.revoke_reason = reason
    audit(session, actor_id=admin.id, action="tag.revoke", target_type="user", target_id=agent.id, now=now,
          tag=tag.code, reason=reason)
    return grant


def set_status(session: Session, *, admin: User, user_id: int, status: str, reason: str, now: datetime) -> User:
    """Suspend or reinstate a member; suspension ends their sessions at once."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such member."))
    if user.id == admin.id:
        raise NotAllowed(_l("You cannot change your own status."))
    if status not in (Status.ACTIVE, Status.SUSPENDED):
        raise Invalid(_l("Unknown status."), field="status")
    reason = _require_text(reason, "reason", 500)
    if user.status == status:
        raise Conflict(_l("The member already has this status."))
    previous = user.status
    user.status = status
    if status == Status.SUSPENDED:
        end_sessions(session, user.id)
    audit(session, actor_id=admin.id, action=f"member.{'suspend' if status == Status.SUSPENDED else 'reinstate'}",
          target_type="user", target_id=user.id, now=now, reason=reason, previous=previous)
    return user


def set_tier(session: Session, *, actor_id: int | None, agent_id: int, tier: int, reason: str,
             now: datetime) -> User:
    agent = get_agent(session, agent_id)
    if tier not in {t.value for t in Tier}:
        raise Invalid(_l("Unknown tier."), field="tier")
    previous = agent.tier
    agent.tier = tier
    audit(session, actor_id=actor_id, action="agent.tier", target_type="user", target_id=agent.id, now=now,
          tier=tier, previous=previous, reason=reason)
    return agent

