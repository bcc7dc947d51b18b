"""Account names. An account is a string; its owner is in the name (design/money.md)."""

from __future__ import annotations

from sqlalchemy import String, cast, literal

PLATFORM_REVENUE = "platform_revenue"
PAYMENT_PROVIDER = "payment_provider"  # money entering from outside (negative: what the world paid in)
PAYOUTS_SENT = "payouts_sent"  # money that left to agents' banks

# Accounts that hold someone's money: never below zero, checked in the posting's own transaction.
PROTECTED_PREFIXES = ("client_wallet:", "campaign_escrow:", "agent_earnings:", "agent_payouts_pending:")


def client_wallet(organisation_id: int) -> str:
    return f"client_wallet:{organisation_id}"


def campaign_escrow(campaign_id: int) -> str:
    return f"campaign_escrow:{campaign_id}"


def agent_earnings(agent_id: int) -> str:
    return f"agent_earnings:{agent_id}"


def agent_payouts_pending(agent_id: int) -> str:
    return f"agent_payouts_pending:{agent_id}"


def is_protected(account: str) -> bool:
    return account.startswith(PROTECTED_PREFIXES)


def is_known(account: str) -> bool:
    """A well-formed account name (tests and the reconciliation report use it)."""
    if account in (PLATFORM_REVENUE, PAYMENT_PROVIDER, PAYOUTS_SENT):
        return True
    prefix, _, owner = account.partition(":")
    return f"{prefix}:" in PROTECTED_PREFIXES and owner.isdigit()


def sql_name(prefix: str, id_expr):
    """'<prefix><id>' as SQL, e.g. sql_name("campaign_escrow:", Campaign.id), for set-based statements
    (account names and idempotency keys alike)."""
    return literal(prefix, String) + cast(id_expr, String)
