"""The ledger's refusals in the lender's words.

A revert reaches the servicer decoded from the ABI (``TransactionReverted``: the error's name
and arguments, such as ``SignatureExpired(deadline=..., chainTime=...)``). For the errors a
person can act on, :func:`explained` says what happened and what to do, in one sentence that
still ends with the error's name; other reverts keep their decoded form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from web3 import Web3

from loanservicing.amounts import iso_date, rate
from loanservicing.chain.errors import TransactionReverted
from loanservicing.ledger.calendar import date_of_day
from loanservicing.servicing.errors import LedgerRefusal

__all__ = ["explained"]


def _hex(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


def _day(value: Any) -> str:
    """A ledger day number (days since 1970-01-01 in the loan's offset) as an ISO date."""
    return date_of_day(int(value)).isoformat()


_EXPLANATIONS: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "InvalidBorrowerSignature": lambda a: (
        f"the borrower {a['borrower']} did not sign these terms for this lender with its next "
        f"nonce (the ledger expects a signature over digest {_hex(a['digest'])}), so ask the "
        "borrower to sign them again"
    ),
    "SignatureExpired": lambda a: (
        f"the borrower's signature expired at {iso_date(int(a['deadline']))}, before the "
        f"chain's time {iso_date(int(a['chainTime']))}, so ask the borrower to sign the terms "
        "again"
    ),
    "TokenNotAllowed": lambda a: (
        f"the ledger's admin has not allowed loans in token {a['token']} (the admin allows it "
        f"with `loan allow-token {a['token']}`)"
    ),
    "FeeOnTransferToken": lambda a: (
        f"token {a['token']} takes a fee on transfers (the borrower would receive "
        f"{a['received']} of {a['expected']} units), and the ledger lends no such token"
    ),
    "InvalidFirstDueDate": lambda a: (
        f"the first due date {iso_date(int(a['firstDueDate']))} is outside what the ledger "
        f"takes: from {iso_date(int(a['earliest']))} to {iso_date(int(a['latest']))}"
    ),
    "InvalidDeadline": lambda a: (
        f"the deadline {iso_date(int(a['deadline']))} is not after the chain's time "
        f"{iso_date(int(a['chainTime']))}"
    ),
    "TimestampInPast": lambda a: (
        f"{iso_date(int(a['timestamp']))} is before the chain's time "
        f"{iso_date(int(a['chainTime']))}: the ledger quotes now or later only"
    ),
    "DefaultThresholdNotReached": lambda a: (
        f"loan {a['loanId']} is {a['daysPastDue']} days past due, short of its default "
        f"threshold of {a['threshold']} days"
    ),
    "BorrowerIsLender": lambda a: (
        f"{a['account']} would lend to itself: the borrower and the lender must differ"
    ),
    "UnsupportedToken": lambda a: (
        f"{a['token']} does not behave as an ERC-20 token the ledger can lend (no code, or "
        "no decimals)"
    ),
    "InvalidRate": lambda a: (
        f"a rate of {rate(int(a['bps']))} is above the ledger's {rate(int(a['maxBps']))}"
    ),
    "InvalidInstallments": lambda a: (
        f"{a['installments']} installments is not between 1 and {a['maxInstallments']}"
    ),
    "NothingToRestructure": lambda a: f"loan {a['loanId']} has no principal left to restructure",
    "NotBorrower": lambda a: (
        f"{a['caller']} is not loan {a['loanId']}'s borrower, who alone may accept"
    ),
    "RequiredAttestationMissing": lambda a: (
        f"lender {a['lender']} requires of its borrowers a valid attestation that "
        f"{a['borrower']} does not hold (claim type {_hex(a['claimType'])}; `policy show "
        f"{a['lender']}` names the types and the attesters trusted for them)"
    ),
    "NothingToClaim": lambda a: (
        f"nothing is held for {a['lender']} in token {a['token']}, so there is nothing to claim"
    ),
    "RestructureTermsMismatch": lambda a: (
        f"the terms named are not loan {a['loanId']}'s pending restructuring proposal, so "
        f"review it with `loan restructure show {a['loanId']}`"
    ),
    "NoRestructureProposal": lambda a: (
        f"loan {a['loanId']} has no pending restructuring proposal (none was made, or it was "
        "accepted, withdrawn or dropped at a default)"
    ),
    "RestructureExpired": lambda a: (
        f"loan {a['loanId']}'s restructuring proposal expired at {iso_date(int(a['deadline']))}"
    ),
    "DefaultDue": lambda a: (
        f"loan {a['loanId']} is {a['daysPastDue']} days past due, at its default threshold of "
        f"{a['threshold']} days, so it can no longer be restructured: declare the default or "
        "bring the loan current first"
    ),
    "DefaultInsideGrace": lambda a: (
        f"loan {a['loanId']}'s oldest unpaid installment is inside its grace period until "
        f"{iso_date(int(a['graceEnds']))}, so the loan cannot be declared in default before "
        "then"
    ),
    "HolidayOutOfRange": lambda a: (
        f"loan {a['loanId']}'s payment holiday cannot start at installment "
        f"{a['fromInstallment']}: it may start at installment {a['first']} to {a['last']} "
        "(at acceptance, only the next installment to fall due)"
    ),
    "InvalidHolidayLength": lambda a: (
        f"a payment holiday covers 1 to {a['maxCount']} installments, not {a['count']}"
    ),
    "NoHolidayProposal": lambda a: (
        f"loan {a['loanId']} has no pending payment holiday proposal (none was made, or it "
        "was accepted or withdrawn)"
    ),
    "HolidayTermsMismatch": lambda a: (
        f"the holiday named is not loan {a['loanId']}'s pending payment holiday proposal, so "
        f"review it with `loan holiday show {a['loanId']}`"
    ),
    "HolidayExpired": lambda a: (
        f"loan {a['loanId']}'s payment holiday proposal expired at "
        f"{iso_date(int(a['deadline']))}, so ask the servicer to propose it again"
    ),
    "HolidayNotCurrent": lambda a: (
        f"loan {a['loanId']} has {a['pastDue']} units of interest and principal past due (or "
        "a prepaid period running), so bring it current or restructure it first"
    ),
    "InvalidForbearance": lambda a: (
        f"a forbearance from {_day(a['fromDay'])} to {_day(a['toDay'])} is not one the ledger "
        f"takes: a new one runs from today ({_day(a['today'])}) or later to a date not before "
        "its first, and a running one changes only by naming its first date again"
    ),
    "ForbearanceInEffect": lambda a: (
        f"loan {a['loanId']}'s forbearance from {_day(a['fromDay'])} to {_day(a['toDay'])} has "
        f"begun and still matters, so extend it or end it early (name {_day(a['fromDay'])} "
        "as its first date again) rather than replace it"
    ),
    "InsufficientGas": lambda a: (
        "the ledger ran out of gas inside its protected transfer or credit report, so send it "
        "again with more gas"
    ),
}


def explained(exc: TransactionReverted, action: str) -> TransactionReverted:
    """``exc`` with a sentence for people when its error is one they can act on."""
    if exc.revert is None:
        return exc
    explain = _EXPLANATIONS.get(exc.revert.name)
    if explain is None:
        return exc
    what = action or "The transaction"
    args = {
        k: Web3.to_checksum_address(v) if isinstance(v, str) and Web3.is_address(v) else v
        for k, v in exc.revert.args.items()
    }
    because = explain(args)
    return LedgerRefusal(exc, f"{what} was refused: {because} ({exc.revert.name}).")
