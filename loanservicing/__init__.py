"""Loan servicing on an EVM chain: the ledger's contracts, the Python API that deploys and
services loans on them, the event index, the monitor and the CLI.

The API a Python user needs is here (imported on first use, so that ``import loanservicing``
stays cheap and the layers below never load the ones above)::

    from datetime import timedelta
    from decimal import Decimal
    from loanservicing import connect

    with connect() as servicer:   # a temporary Anvil and a new deployment; or connect(rpc_url)
        terms = servicer.loan_terms(borrower, Decimal("10000"), "12", 12, timedelta(days=30))
        loan = servicer.originate(terms)
        servicer.as_account(borrower_signer).repay(loan.loan_id, Decimal("887.72"))

See docs/api.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loanservicing.amounts import (
        InvalidInput as InvalidInput,
    )
    from loanservicing.chain.accounts import (
        Signer as Signer,
    )
    from loanservicing.chain.accounts import (
        dev_signer as dev_signer,
    )
    from loanservicing.chain.accounts import (
        signer_from_env as signer_from_env,
    )
    from loanservicing.chain.accounts import (
        signer_from_key as signer_from_key,
    )
    from loanservicing.chain.accounts import (
        signer_from_keystore as signer_from_keystore,
    )
    from loanservicing.chain.errors import (
        TransactionReverted as TransactionReverted,
    )
    from loanservicing.deployment.manifest import (
        Deployment as Deployment,
    )
    from loanservicing.errors import (
        LoanServicingError as LoanServicingError,
    )
    from loanservicing.ledger.calendar import (
        DayCount as DayCount,
    )
    from loanservicing.ledger.calendar import (
        Frequency as Frequency,
    )
    from loanservicing.ledger.credit import (
        CreditRecord as CreditRecord,
    )
    from loanservicing.ledger.schedule import (
        ScheduleKind as ScheduleKind,
    )
    from loanservicing.ledger.state import (
        LoanSnapshot as LoanSnapshot,
    )
    from loanservicing.servicing.devchain import advance_time as advance_time
    from loanservicing.servicing.devchain import faucet as faucet
    from loanservicing.servicing.records import (
        HolidayGrant as HolidayGrant,
    )
    from loanservicing.servicing.records import (
        HolidayProposal as HolidayProposal,
    )
    from loanservicing.servicing.records import (
        LoanTerms as LoanTerms,
    )
    from loanservicing.servicing.records import (
        Origination as Origination,
    )
    from loanservicing.servicing.records import (
        Payoff as Payoff,
    )
    from loanservicing.servicing.records import (
        Repayment as Repayment,
    )
    from loanservicing.servicing.records import (
        RestructureProposal as RestructureProposal,
    )
    from loanservicing.servicing.schedule_view import (
        ScheduleRow as ScheduleRow,
    )
    from loanservicing.servicing.schedule_view import (
        schedule as schedule,
    )
    from loanservicing.servicing.servicer import (
        Servicer as Servicer,
    )
    from loanservicing.servicing.session import (
        connect as connect,
    )

_EXPORTS = {
    "faucet": "loanservicing.servicing.devchain",
    "advance_time": "loanservicing.servicing.devchain",
    "connect": "loanservicing.servicing.session",
    "Servicer": "loanservicing.servicing.servicer",
    "LoanTerms": "loanservicing.servicing.records",
    "Origination": "loanservicing.servicing.records",
    "Repayment": "loanservicing.servicing.records",
    "Payoff": "loanservicing.servicing.records",
    "RestructureProposal": "loanservicing.servicing.records",
    "HolidayProposal": "loanservicing.servicing.records",
    "HolidayGrant": "loanservicing.servicing.records",
    "ScheduleRow": "loanservicing.servicing.schedule_view",
    "schedule": "loanservicing.servicing.schedule_view",
    "LoanSnapshot": "loanservicing.ledger.state",
    "CreditRecord": "loanservicing.ledger.credit",
    "ScheduleKind": "loanservicing.ledger.schedule",
    "DayCount": "loanservicing.ledger.calendar",
    "Frequency": "loanservicing.ledger.calendar",
    "Deployment": "loanservicing.deployment.manifest",
    "Signer": "loanservicing.chain.accounts",
    "dev_signer": "loanservicing.chain.accounts",
    "signer_from_env": "loanservicing.chain.accounts",
    "signer_from_key": "loanservicing.chain.accounts",
    "signer_from_keystore": "loanservicing.chain.accounts",
    "LoanServicingError": "loanservicing.errors",
    "InvalidInput": "loanservicing.amounts",
    "TransactionReverted": "loanservicing.chain.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'loanservicing' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
