"""API tokens (create, revoke, authenticate) and the expiry of idempotency keys.

A token is `sl_` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored, so a copy of
the database cannot be used to call the API; a lookup by hash needs no slow hashing because the secret
has full entropy (no dictionary to try). The first characters are kept as a non-secret `prefix` so
people can tell their tokens apart.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from app.api.models import ApiToken, IdempotencyKey, TokenScope
from app.core.errors import Conflict, DomainError, Invalid, NotFound
from app.core.text import clean_text
from app.members.models import Role, Status, User
from app.members.services import audit

TOKEN_PREFIX = "sl_"  # nosec B105  # the visible prefix of every token, not a secret
PREFIX_SHOWN = 8  # characters after "sl_" kept for display
MAX_TOKENS_PER_ORGANISATION = 50
MAX_EXPIRY_DAYS = 366
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
# last_used_at is written at most this often per token, so reads do not turn into writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class Unauthenticated(DomainError):
    status = 401
    code = "invalid_token"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def create_token(session: Session, *, user: User, name: str, scope: str, expires_at: datetime | None,
                 now: datetime) -> NewToken:
    """A client member creates a token for their organisation; the secret is returned once."""
    if user.role != Role.CLIENT or user.organisation_id is None:
        raise Invalid(_l("Only members of a client business can create API tokens."))
    name = clean_text(name, field="name", max_len=80, single_line=True)
    if scope not in {s.value for s in TokenScope}:
        raise Invalid(_l("Choose read or write."), field="scope")
    if expires_at is not None:
        if expires_at <= now:
            raise Invalid(_l("The expiry must be in the future."), field="expires_on")
        if expires_at > now + timedelta(days=MAX_EXPIRY_DAYS):
            raise Invalid(_l("A token can be valid for at most a year."), field="expires_on")
    live = session.scalars(select(ApiToken.id).where(ApiToken.organisation_id == user.organisation_id,
                                                     ApiToken.revoked_at.is_(None))).all()
    if len(live) >= MAX_TOKENS_PER_ORGANISATION:
        raise Conflict(_l("Your business has %(n)d tokens; revoke one first.", n=MAX_TOKENS_PER_ORGANISATION))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(organisation_id=user.organisation_id, created_by_id=user.id, name=name,
                     prefix=secret[:len(TOKEN_PREFIX) + PREFIX_SHOWN], token_hash=hash_token(secret), scope=scope,
                     created_at=now, expires_at=expires_at)
    session.add(token)
    session.flush()
    audit(session, actor_id=user.id, action="api_token.create", target_type="api_token", target_id=token.id,
          now=now, name=name, scope=scope, prefix=token.prefix,
          expires_at=expires_at.isoformat() if expires_at else None)
    return NewToken(token, secret)


def get_token_for_org(session: Session, token_id: int, organisation_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.organisation_id != organisation_id:
        raise NotFound(_l("No such token."))
    return token


def revoke_token(session: Session, *, user: User, token_id: int, now: datetime) -> ApiToken:
    """Revoking is immediate and final; a second revoke changes nothing."""
    token = get_token_for_org(session, token_id, user.organisation_id)
    if token.revoked_at is not None:
        raise Conflict(_l("This token was already revoked."))
    token.revoked_at = now
    token.revoked_by_id = user.id
    session.flush()
    audit(session, actor_id=user.id, action="api_token.revoke", target_type="api_token", target_id=token.id,
          now=now, name=token.name, prefix=token.prefix)
    return token


def tokens_of(session: Session, organisation_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.organisation_id == organisation_id)
                                .options(joinedload(ApiToken.created_by))  # the page shows each creator's name
                                .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
                                .limit(MAX_TOKENS_PER_ORGANISATION * 4)))


@dataclass(frozen=True)
class Caller:
    """Who an API request acts for: the token's organisation, as the member who created the token."""

    token_id: int
    organisation_id: int
    user: User
    scope: str


def authenticate(session: Session, secret: str, *, now: datetime) -> Caller:
    """The caller of a bearer token, or Unauthenticated with a code saying why."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise Unauthenticated(_l("The API token is not valid."))
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None:
        raise Unauthenticated(_l("The API token is not valid."))
    if token.revoked_at is not None:
        raise Unauthenticated(_l("The API token was revoked."), code="token_revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated(_l("The API token has expired."), code="token_expired")
    user = token.created_by
    if user.status != Status.ACTIVE or user.organisation_id != token.organisation_id:
        raise Unauthenticated(_l("The member who created this token can no longer use Surgeline."),
                              code="token_owner_inactive")
    return Caller(token_id=token.id, organisation_id=token.organisation_id, user=user, scope=token.scope)


def touch_token(session: Session, token_id: int, *, now: datetime) -> bool:
    """Record the token's use, at most once a minute (a conditional update: concurrent requests write once)."""
    result = session.execute(
        update(ApiToken).where(ApiToken.id == token_id,
                               (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at < now - LAST_USED_RESOLUTION))
        .values(last_used_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def purge_idempotency_keys(session: Session, *, now: datetime, ttl: timedelta = IDEMPOTENCY_KEY_TTL) -> int:
    """Forget stored answers older than the TTL; a key may then be used again."""
    return session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < now - ttl)
        .execution_options(synchronize_session=False)
    ).rowcount
