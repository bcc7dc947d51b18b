"""Posting to the ledger: balanced, idempotent, append-only, never overdrawing a protected account.

`post()` is the one way money moves for single events. It runs inside a savepoint of the caller's
transaction, so a refused posting (insufficient funds) leaves nothing behind and the caller can go on.
The settlement sweep posts thousands of transactions at once with set-based SQL (app.ledger.settlement)
but keeps the same rules: same keys, same balance guard, same constraints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import Conflict, NotFound
from app.core.money import format_fen
from app.ledger import accounts
from app.ledger.models import LedgerBalance, LedgerEntry, LedgerTransaction, TransactionKind


class LedgerError(Exception):
    """A programming error: an unbalanced or malformed posting. Never shown to people."""


class InsufficientFunds(Conflict):
    """A protected account would go below zero; the posting was not made."""

    code = "insufficient_funds"

    def __init__(self, account: str, needed_fen: int, available_fen: int):
        super().__init__(
            _l("Not enough money: ¥%(available)s available, ¥%(needed)s needed.",
               available=format_fen(available_fen), needed=format_fen(needed_fen)),
            account=account, needed_fen=needed_fen, available_fen=available_fen,
        )
        self.account = account
        self.needed_fen = needed_fen
        self.available_fen = available_fen


@dataclass(frozen=True)
class Posted:
    transaction: LedgerTransaction
    created: bool  # False: the key was already posted, nothing was written


def dialect_insert(session: Session):
    """INSERT with ON CONFLICT support for the session's database."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def ensure_accounts(session: Session, names: Iterable[str]) -> None:
    """Create missing balance rows at zero (a concurrent creator is fine: ON CONFLICT DO NOTHING)."""
    rows = [{"account": a, "balance_fen": 0, "is_protected": accounts.is_protected(a)} for a in sorted(set(names))]
    if rows:
        stmt = dialect_insert(session)(LedgerBalance).on_conflict_do_nothing(index_elements=["account"])
        session.execute(stmt, rows)


def balance_of(session: Session, account: str) -> int:
    return session.scalar(select(LedgerBalance.balance_fen).where(LedgerBalance.account == account)) or 0


def lock_balances(session: Session, names: Iterable[str]) -> dict[str, int]:
    """Balances of these accounts, row-locked in name order on PostgreSQL (SQLite's writer lock is already held)."""
    names = sorted(set(names))
    ensure_accounts(session, names)
    query = select(LedgerBalance.account, LedgerBalance.balance_fen).where(LedgerBalance.account.in_(names)) \
        .order_by(LedgerBalance.account)
    if is_postgresql(session):
        query = query.with_for_update()
    return dict(session.execute(query).all())


def _validate(key: str, kind: str, legs: Sequence[tuple[str, int]]) -> dict[str, int]:
    if not key or len(key) > 120:
        raise LedgerError(f"bad idempotency key {key!r}")
    if kind not in {k.value for k in TransactionKind}:
        raise LedgerError(f"unknown kind {kind!r}")
    if len(legs) < 2:
        raise LedgerError("a transaction needs two or more entries")
    deltas: dict[str, int] = {}
    for account, amount in legs:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise LedgerError(f"entry amounts are non-zero integers of fen, got {amount!r}")
        if not accounts.is_known(account):
            raise LedgerError(f"unknown account {account!r}")
        deltas[account] = deltas.get(account, 0) + amount
    if sum(amount for _, amount in legs) != 0:
        raise LedgerError(f"transaction {key} does not sum to zero")
    return deltas


def apply_deltas(session: Session, deltas: dict[str, int]) -> None:
    """Move cached balances, refusing to take a protected account below zero (check and act in one UPDATE)."""
    ensure_accounts(session, deltas)
    for account in sorted(deltas):  # one lock order everywhere: no deadlocks between postings
        delta = deltas[account]
        if delta == 0:
            continue
        done = session.execute(
            update(LedgerBalance)
            .where(LedgerBalance.account == account,
                   (LedgerBalance.is_protected.is_(False)) | (LedgerBalance.balance_fen + delta >= 0))
            .values(balance_fen=LedgerBalance.balance_fen + delta)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise InsufficientFunds(account, -delta, balance_of(session, account))


def find(session: Session, key: str) -> LedgerTransaction | None:
    return session.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))


def post(session: Session, *, key: str, kind: str, legs: Sequence[tuple[str, int]], now: datetime,
         memo: str = "", reverses_id: int | None = None) -> Posted:
    """Post one balanced transaction once per key. A repeated key returns the first posting, writing nothing."""
    deltas = _validate(key, kind, legs)
    existing = find(session, key)
    if existing is not None:
        return Posted(existing, False)
    try:
        with session.begin_nested():
            tx = LedgerTransaction(idempotency_key=key, kind=kind, memo=memo[:200], reverses_id=reverses_id,
                                   created_at=now)
            session.add(tx)
            session.flush()
            apply_deltas(session, deltas)
            session.execute(insert(LedgerEntry), [
                {"transaction_id": tx.id, "account": account, "amount_fen": amount} for account, amount in legs
            ])
    except IntegrityError:
        # Another transaction posted the same key (or reversed the same original) and committed first.
        existing = find(session, key)
        if existing is None:
            raise
        return Posted(existing, False)
    return Posted(tx, True)


def entries_of(session: Session, transaction_id: int) -> list[tuple[str, int]]:
    return [(a, amt) for a, amt in session.execute(
        select(LedgerEntry.account, LedgerEntry.amount_fen).where(LedgerEntry.transaction_id == transaction_id)
        .order_by(LedgerEntry.id))]


def reverse(session: Session, *, transaction_id: int, now: datetime, memo: str = "") -> Posted:
    """Post the mirror image of a transaction (key reverse:<id>); a transaction is reversed at most once."""
    original = session.get(LedgerTransaction, transaction_id)
    if original is None:
        raise NotFound(_l("No such ledger transaction."))
    if original.kind == TransactionKind.REVERSAL:
        raise Conflict(_l("A reversal cannot itself be reversed."))
    legs = [(account, -amount) for account, amount in entries_of(session, original.id)]
    return post(session, key=f"reverse:{original.id}", kind=TransactionKind.REVERSAL, legs=legs, now=now,
                memo=memo or f"reverses {original.idempotency_key}", reverses_id=original.id)
