"""Money coming in from outside: a payment provider behind a small interface.

The charge happens before (and outside) the database transaction that credits the wallet: no network
call inside a write transaction. The credit is keyed by the provider's payment id (topup:<payment_id>),
so a form sent twice, or a provider callback delivered twice, credits once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from flask_babel import lazy_gettext as _l

from app.core.errors import Invalid


@dataclass(frozen=True)
class Payment:
    payment_id: str
    amount_fen: int
    succeeded: bool
    provider: str


class PaymentProvider(Protocol):
    name: str

    def charge(self, *, organisation_id: int, amount_fen: int, reference: str) -> Payment:
        """Take `amount_fen` from the client; the same reference returns the same payment."""


REFERENCE = re.compile(r"^[0-9a-f]{32}$")


class SimulatedProvider:
    """Always succeeds. The payment id is derived from the organisation and the form's one-time reference."""

    name = "simulated"

    def charge(self, *, organisation_id: int, amount_fen: int, reference: str) -> Payment:
        if not REFERENCE.match(reference or ""):
            raise Invalid(_l("The form expired. Reload the page and try again."), field="amount")
        return Payment(payment_id=f"sim-{organisation_id}-{reference}", amount_fen=amount_fen, succeeded=True,
                       provider=self.name)


PROVIDERS: dict[str, type] = {"simulated": SimulatedProvider}


def get_provider(name: str = "simulated") -> PaymentProvider:
    return PROVIDERS[name]()
