"""The servicing API: originate, repay, quote, inspect, restructure, relieve (payment
holidays, forbearance) and default loans, and claim repayments the ledger held.

``Servicer`` binds a node, a deployment and (for writes) a locally signing account::

    w3, node = connect(rpc_url)
    servicer = Servicer(w3, deployment, signer=dev_signer(0))
    loan_id = servicer.originate(LoanTerms(borrower, 10_000 * 10**6, 1200, 12, 30 * DAY)).loan_id
    servicer.loan(loan_id).next_due_amount

A loan needs its borrower's EIP-712 signature over the terms
(:mod:`loanservicing.servicing.borrower_signature`). :meth:`Servicer.originate` signs for a
borrower that is a dev account of the node (Anvil's, Hardhat's); any other borrower signs the
terms itself (:meth:`Servicer.sign_offer`, as that borrower) and hands the lender the
:class:`SignedTerms`, which :meth:`Servicer.originate_signed` checks (this ledger and chain,
this lender, the borrower's next nonce, an unexpired deadline, the borrower's signature) and
sends.

Every write checks its input first (the loan exists and is open, the amount is positive, the
account holds the tokens and the role it needs) and has its gas estimated before signing, so a
write that would fail sends nothing. Origination terms are not checked against limits copied
from the ledger: the origination is simulated first (:meth:`Servicer.check_terms`), so the
ledger's own checks refuse bad terms before any token approval is sent. Amounts are ints in
the token's smallest unit.

The schedule of a loan is :mod:`loanservicing.servicing.schedule_view`, the faucet and time
travel of dev chains :mod:`loanservicing.servicing.devchain`, the portfolio summary
:mod:`loanservicing.servicing.portfolio`.
"""

from __future__ import annotations

import logging

from eth_typing import ChecksumAddress
from web3.logs import DISCARD
from web3.types import TxReceipt

from loanservicing.chain.abi import SERVICER_ROLE
from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.transactions import call
from loanservicing.errors import LoanServicingError
from loanservicing.ledger.credit import CreditRecord
from loanservicing.ledger.credit_score import FACTORS, CreditScore
from loanservicing.ledger.delinquency import STATUS_LABELS
from loanservicing.ledger.portfolio import snapshot
from loanservicing.ledger.state import AmountDue, LoanSnapshot, LoanState, LoanStatus
from loanservicing.servicing.claims import ZERO_ADDRESS as ZERO_ADDRESS
from loanservicing.servicing.claims import ClaimsMixin
from loanservicing.servicing.errors import InsufficientFunds
from loanservicing.servicing.inputs import Amount, amount_units
from loanservicing.servicing.origination import OriginationMixin
from loanservicing.servicing.records import (
    Claim,
    HolidayGrant,
    HolidayProposal,
    LoanTerms,
    Origination,
    Payoff,
    Repayment,
    RestructureProposal,
    TokenPermission,
)
from loanservicing.servicing.relief import ReliefMixin
from loanservicing.servicing.restructuring import RestructuringMixin

__all__ = [
    "Claim",
    "HolidayGrant",
    "HolidayProposal",
    "LoanTerms",
    "Origination",
    "Payoff",
    "Repayment",
    "RestructureProposal",
    "Servicer",
    "TokenPermission",
]

logger = logging.getLogger(__name__)


class Servicer(OriginationMixin, RestructuringMixin, ReliefMixin, ClaimsMixin):
    """Loan servicing against one deployment, as one account (or read-only).

    The binding (contracts, accounts, token, the checked write path) is
    :class:`~loanservicing.servicing.binding.LedgerBinding`; origination, restructuring,
    relief (payment holidays, forbearance) and held repayments are its mixins; the reads of
    loans and credit records, repayment and the servicing actions are here."""

    # ----------------------------------------------------------------- reads

    def amount_due(self, loan_id: int, timestamp: int | None = None) -> dict[str, int]:
        """``amountDue(id, t)`` as a dict (t defaults to the latest block's time)."""
        return self.amount_due_at_block(loan_id, timestamp, "latest")

    def loan(self, loan_id: int) -> LoanSnapshot:
        """The loan as the ledger reports it now (its ``loan`` and ``amountDue`` views, read
        at one block)."""
        return self.loan_with_payoff(loan_id)[0]

    def loan_with_payoff(self, loan_id: int) -> tuple[LoanSnapshot, Payoff]:
        """The loan now and what closes it, both from the views read at one block."""
        view = self.loan_view(loan_id)
        block = self.w3.eth.get_block("latest")
        number = int(block["number"])
        due = self.amount_due_at_block(loan_id, int(block["timestamp"]), number)
        state = LoanState.from_view(loan_id, view)
        decimals = int(view["decimals"])
        current = snapshot(state, AmountDue.from_view(due), decimals, due["asOf"])
        return current, Payoff.from_due(loan_id, decimals, due)

    def amount_due_at_block(
        self, loan_id: int, timestamp: int | None, block: int | str
    ) -> dict[str, int]:
        """``amountDue`` evaluated at ``block``, plus ``asOf``, the timestamp used.

        Some nodes (Anvil with a block-time interval) run calls one block ahead, where the
        latest block's time is already past: the call is then repeated at the time the node
        reports in its TimestampInPast revert.
        """
        latest = self.w3.eth.get_block(block)  # type: ignore[arg-type]
        t = int(latest["timestamp"]) if timestamp is None else timestamp
        for _ in range(2):
            try:
                raw = call(
                    self.ledger.functions.amountDue(loan_id, t),
                    self.decoder,
                    block_identifier=block,
                )
            except TransactionReverted as exc:
                if exc.revert is None or exc.error_name != "TimestampInPast" or timestamp:
                    raise
                t = int(exc.revert.args["chainTime"])
                continue
            due = {k: int(v) for k, v in zip(self._outputs["amountDue"], raw, strict=True)}
            due["asOf"] = t
            return due
        raise LoanServicingError(f"The node kept moving its clock while quoting loan {loan_id}.")

    def loans(
        self, borrower: ChecksumAddress | None = None, status: str | None = None
    ) -> list[LoanSnapshot]:
        """Every loan, optionally only one borrower's and/or one status."""
        if status is not None and status not in STATUS_LABELS:
            raise LoanServicingError(
                f"Unknown status {status!r}; use one of {', '.join(STATUS_LABELS)}."
            )
        if borrower is not None:
            ids = self._loan_ids_of(borrower)
        else:
            ids = list(range(1, self.loan_count() + 1))
        states = [self.loan(i) for i in ids]
        return [s for s in states if status is None or s.status == status]

    def _loan_ids_of(self, borrower: ChecksumAddress) -> list[int]:
        event = self.ledger.events.LoanOriginated()
        logs = event.get_logs(
            from_block=self.deployment.block, argument_filters={"borrower": borrower}
        )
        return sorted(int(log["args"]["loanId"]) for log in logs)

    def payoff(self, loan_id: int, at: int | None = None) -> Payoff:
        """What closes the loan now (or at ``at``, unix seconds from now on: interest to the
        day by the loan's day count), split as the repayment would be allocated."""
        if at is None:
            return self.loan_with_payoff(loan_id)[1]
        view = self.loan_view(loan_id)
        due = self.amount_due_at_block(loan_id, at, "latest")
        return Payoff.from_due(loan_id, int(view["decimals"]), due)

    def credit_record(self, borrower: ChecksumAddress) -> CreditRecord:
        """The borrower's totals over every reporter (the registry's ``creditRecord``)."""
        raw = self.registry.functions.creditRecord(borrower).call()
        return CreditRecord.from_view(borrower, dict(zip(self._record_fields, raw, strict=True)))

    def credit_score(self, borrower: ChecksumAddress) -> CreditScore:
        """The borrower's score as the registry computes it (``creditScore``), with its parts."""
        score, parts = self.registry.functions.creditScore(borrower).call()
        names = [f.name for f in FACTORS]
        return CreditScore(int(score), dict(zip(names, map(int, parts), strict=True)))

    def reporter_records(self, borrower: ChecksumAddress) -> list[tuple[str, CreditRecord]]:
        """The borrower's figures as each reporting ledger reported them, in order of first
        report (``reportersOf``, ``reporterRecord``)."""
        reporters = self.registry.functions.reportersOf(borrower).call()
        records = []
        for reporter in reporters:
            raw = self.registry.functions.reporterRecord(borrower, reporter).call()
            view = dict(zip(self._record_fields, raw, strict=True))
            records.append((str(reporter), CreditRecord.from_view(borrower, view)))
        return records

    # ----------------------------------------------------------------- repayment

    def repay(self, loan_id: int, amount: Amount, approve: bool = True) -> Repayment:
        """Pay up to ``amount`` (``int`` units or ``Decimal`` tokens) towards a loan from this
        account (anyone may pay), in the loan's token."""
        bound = self.for_loan(loan_id)
        if bound is not self:
            return bound.repay(loan_id, amount, approve)
        amount = amount_units(amount, self.token_decimals)
        if amount <= 0:
            raise InsufficientFunds("A repayment must be greater than zero.")
        v = self._open_loan(loan_id, allow_defaulted=True)
        payoff = int(call(self.ledger.functions.payoffAmount(loan_id), self.decoder))
        needed = min(amount, payoff)
        self._require_balance(needed, f"the repayment on loan {loan_id}")
        # Approve what the payer offered (capped at its balance): the payoff can grow by a few
        # units of penalty before the repayment is mined.
        self.ensure_allowance(max(needed, min(amount, self.balance(self.account))), approve)
        receipt = self._send(
            self.ledger.functions.repay(loan_id, amount), f"Repaying loan {loan_id}"
        )
        return self.repayment_from_receipt(loan_id, receipt, int(v["decimals"]))

    def repayment_from_receipt(self, loan_id: int, receipt: TxReceipt, decimals: int) -> Repayment:
        (event,) = self.ledger.events.RepaymentApplied().process_receipt(receipt, errors=DISCARD)
        a = event["args"]
        held = [
            h["args"]
            for h in self.ledger.events.RepaymentHeld().process_receipt(receipt, errors=DISCARD)
            if int(h["args"]["loanId"]) == loan_id
        ]
        return Repayment(
            loan_id=loan_id,
            tx_hash=receipt["transactionHash"].to_0x_hex(),
            gas_used=int(receipt["gasUsed"]),
            decimals=decimals,
            fees=int(a["fees"]),
            penalty=int(a["penalty"]),
            interest=int(a["interest"]),
            principal=int(a["principal"]),
            principal_outstanding=int(a["principalOutstanding"]),
            installments_paid=int(a["installmentsPaid"]),
            status=LoanStatus(int(a["status"])).label,
            held=sum(int(h["amount"]) for h in held),
            lender_claimable=int(held[-1]["claimable"]) if held else 0,
        )

    # ----------------------------------------------------------------- servicing

    def assess(self, loan_id: int) -> TxReceipt:
        """Bring a loan's late charges and delinquency current (anyone may call)."""
        self._open_loan(loan_id, allow_defaulted=False)
        return self._send(self.ledger.functions.assess(loan_id), f"Assessing loan {loan_id}")

    def declare_default(self, loan_id: int) -> TxReceipt:
        """Declare a loan in default once its days past due reach its threshold (and its
        oldest unpaid installment is past its grace period)."""
        self._open_loan(loan_id, allow_defaulted=False)
        self._require_role(SERVICER_ROLE, "declare defaults")
        return self._send(
            self.ledger.functions.declareDefault(loan_id), f"Declaring loan {loan_id} in default"
        )
