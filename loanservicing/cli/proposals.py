"""What the ``loan restructure`` and ``loan holiday`` groups share: a loan's pending proposal
shown, and its withdrawal confirmed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from web3.types import TxReceipt

from loanservicing.cli.app import CliState
from loanservicing.cli.loans import tx_document
from loanservicing.cli.output import emit

__all__ = ["emit_proposal", "emit_withdrawal"]


class _Proposal(Protocol):
    def to_json(self) -> dict[str, Any]: ...


P = TypeVar("P", bound=_Proposal)


def emit_proposal(
    state: CliState,
    loan_id: int,
    proposal: P | None,
    describe: Callable[[P], str],
    none: str,
) -> None:
    """Prints "Loan N: <described proposal>." for a pending `proposal`, "Loan N: `none`."
    without one."""
    document = {"loan_id": loan_id, "proposal": proposal.to_json() if proposal else None}
    sentence = describe(proposal) if proposal else none
    emit(state, document, lambda c: c.print(f"Loan {loan_id}: {sentence}."))


def emit_withdrawal(state: CliState, loan_id: int, receipt: TxReceipt, what: str) -> None:
    """Confirms that loan `loan_id`'s pending `what` proposal was withdrawn."""
    document = {"loan_id": loan_id, **tx_document(receipt), "withdrawn": True}
    emit(state, document, lambda c: c.print(f"Withdrew the {what} proposal of loan {loan_id}."))
