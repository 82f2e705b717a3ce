"""The servicing API: originate, repay, quote, inspect, restructure and default loans, and
claim repayments the ledger held.

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
from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from loanservicing.amounts import format_amount, iso_date
from loanservicing.chain.abi import DEFAULT_ADMIN_ROLE, output_fields, role
from loanservicing.chain.accounts import Signer, TransactionSender, dev_signer
from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.node import chain_time, is_dev_chain
from loanservicing.chain.transactions import call
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.compile import ContractArtifact, compile_contracts
from loanservicing.deployment.deploy import ORIGINATOR_ROLE, REPORTER_ROLE, SERVICER_ROLE
from loanservicing.deployment.manifest import Deployment
from loanservicing.errors import LoanServicingError
from loanservicing.ledger.credit import CreditRecord
from loanservicing.ledger.delinquency import STATUS_LABELS
from loanservicing.ledger.portfolio import snapshot
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.ledger.state import AmountDue, LoanSnapshot, LoanState, LoanStatus
from loanservicing.servicing.borrower_signature import (
    DEFAULT_VALIDITY,
    SignedTerms,
    origination_typed_data,
    sign_terms,
)
from loanservicing.servicing.errors import (
    InsufficientFunds,
    InvalidTerms,
    LedgerRefusal,
    LoanNotFound,
    LoanNotOpen,
    MissingRole,
    NoSigner,
    SignatureFileError,
)
from loanservicing.servicing.revert_messages import explained

__all__ = [
    "Claim",
    "LoanTerms",
    "Origination",
    "Payoff",
    "Repayment",
    "RestructureProposal",
    "Servicer",
    "TokenPermission",
]

ROLE_NAMES = {
    role(name): name for name in (DEFAULT_ADMIN_ROLE, ORIGINATOR_ROLE, SERVICER_ROLE, REPORTER_ROLE)
}
# How an origination that passed the ledger's checks of its terms fails in a simulation from
# a lender that has not approved (or does not hold) the principal yet: the ledger validates
# the terms before it pulls the principal, last.
_TERMS_PASSED = frozenset({"ERC20InsufficientAllowance", "ERC20InsufficientBalance"})
ZERO_ADDRESS = "0x" + "0" * 40

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class LoanTerms:
    """What a lender offers; amounts in smallest units, rates in basis points, times in s."""

    borrower: ChecksumAddress
    principal: int
    apr_bps: int
    installments: int
    period_seconds: int
    kind: ScheduleKind = ScheduleKind.ANNUITY
    grace_seconds: int = 5 * DAY
    late_fee_bps: int = 500
    penalty_apr_bps: int = 600
    default_after_days: int = 90
    first_due_timestamp: int | None = None
    """None: one period after origination (for signed terms: after signing)."""


@dataclass(frozen=True)
class Origination:
    loan_id: int
    tx_hash: str
    gas_used: int
    borrower: str = ""
    nonce: int = 0
    """The borrower's signature nonce the origination used."""


@dataclass(frozen=True)
class Repayment:
    loan_id: int
    tx_hash: str
    gas_used: int
    decimals: int
    fees: int
    penalty: int
    interest: int
    principal: int
    principal_outstanding: int
    installments_paid: int
    status: str
    held: int = 0
    """What the ledger held for the lender because the transfer to it failed (RepaymentHeld)."""
    lender_claimable: int = 0
    """The lender's claimable balance in the loan's token after this repayment."""

    @property
    def total(self) -> int:
        return self.fees + self.penalty + self.interest + self.principal


@dataclass(frozen=True)
class Payoff:
    """What closes a loan at ``as_of_timestamp``, split as the repayment would be allocated:
    ``amount = fees + penalty + interest + principal (past due) + accrued_interest +
    current_principal + remaining_principal - interest_rebate`` (the running period's
    interest to the day; interest paid ahead of that is credited back)."""

    loan_id: int
    amount: int
    decimals: int
    fees: int
    penalty: int
    interest: int
    principal: int
    current_interest: int
    current_principal: int
    remaining_principal: int
    as_of_timestamp: int
    accrued_interest: int = 0
    interest_rebate: int = 0

    @classmethod
    def from_due(cls, loan_id: int, decimals: int, due: dict[str, int]) -> Payoff:
        """From an ``amountDue`` result (with ``asOf``) as :meth:`Servicer.amount_due` gives."""
        return cls(
            loan_id=loan_id,
            amount=due["payoff"],
            decimals=decimals,
            fees=due["fees"],
            penalty=due["penalty"],
            interest=due["interest"],
            principal=due["principal"],
            current_interest=due["currentInterest"],
            current_principal=due["currentPrincipal"],
            remaining_principal=due["remainingPrincipal"],
            as_of_timestamp=due["asOf"],
            accrued_interest=due["accruedInterest"],
            interest_rebate=due["interestRebate"],
        )


@dataclass(frozen=True)
class Claim:
    """Held repayments a lender claimed."""

    lender: str
    token: str
    to: str
    amount: int
    decimals: int
    tx_hash: str
    gas_used: int


@dataclass(frozen=True)
class RestructureProposal:
    """New terms the servicer proposed for a loan (its latest RestructureProposed event)."""

    loan_id: int
    apr_bps: int
    installments: int
    period_seconds: int
    deadline: int
    servicer: str
    block: int

    def to_json(self) -> dict[str, Any]:
        return {
            "loan_id": self.loan_id,
            "apr_bps": self.apr_bps,
            "installments": self.installments,
            "period_seconds": self.period_seconds,
            "deadline_date": iso_date(self.deadline),
            "deadline_timestamp": self.deadline,
            "servicer": self.servicer,
            "block": self.block,
        }


@dataclass(frozen=True)
class TokenPermission:
    """The admin allowed (or disallowed) new loans in a token (its TokenAllowed event)."""

    token: str
    token_id: int
    decimals: int
    allowed: bool
    tx_hash: str


# --------------------------------------------------------------------------- the API


class Servicer:
    """Loan servicing against one deployment, as one account (or read-only)."""

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        artifacts: dict[str, ContractArtifact] | None = None,
        signer: Signer | None = None,
    ) -> None:
        self.w3 = w3
        self.deployment = deployment
        artifacts = artifacts if artifacts is not None else compile_contracts()
        self.artifacts = artifacts
        self.decoder = revert_decoder(artifacts)
        self.ledger: Contract = w3.eth.contract(
            address=deployment.ledger.address, abi=artifacts["LoanLedger"].abi
        )
        self.registry: Contract = w3.eth.contract(
            address=deployment.credit_registry.address, abi=artifacts["CreditRegistry"].abi
        )
        self.token: Contract = w3.eth.contract(
            address=deployment.token.address, abi=artifacts["TestStablecoin"].abi
        )
        self.sender = TransactionSender(w3, signer, self.decoder) if signer else None
        self._senders: dict[ChecksumAddress, TransactionSender] = {}
        if self.sender is not None:
            self._senders[self.sender.address] = self.sender
        self._outputs = {
            name: output_fields(self.ledger.abi, name) for name in ("loan", "amountDue")
        }
        self._record_fields = output_fields(self.registry.abi, "creditRecord")
        self._token_decimals: int | None = None
        self._token_symbol: str | None = None
        self._dev_chain: bool | None = None

    # ----------------------------------------------------------------- accounts

    def as_account(self, signer: Signer) -> Servicer:
        """The same servicer acting as another account (shares nonce counters)."""
        other = Servicer.__new__(Servicer)
        other.__dict__.update(self.__dict__)
        sender = self._senders.get(signer.address)
        if sender is None:
            sender = TransactionSender(self.w3, signer, self.decoder)
            self._senders[signer.address] = sender
        other.sender = sender
        return other

    def sender_of(self, address: ChecksumAddress) -> TransactionSender | None:
        """The sender of ours that signs for ``address``, if any."""
        return self._senders.get(address)

    @property
    def account(self) -> ChecksumAddress:
        return self._require_sender().address

    def _require_sender(self) -> TransactionSender:
        if self.sender is None:
            raise NoSigner("This operation sends a transaction, but no account was given.")
        return self.sender

    def dev_account(self, address: ChecksumAddress) -> Signer | None:
        """The dev key of ``address`` when it is one of the node's dev accounts (Anvil's and
        Hardhat's, from the public test mnemonic), else None."""
        if self._dev_chain is None:
            self._dev_chain = is_dev_chain(self.w3)
        if not self._dev_chain:
            return None
        accounts = list(self.w3.eth.accounts)
        if address not in accounts:
            return None
        signer = dev_signer(accounts.index(address))
        return signer if signer.address == address else None

    # ----------------------------------------------------------------- token

    @property
    def token_decimals(self) -> int:
        if self._token_decimals is None:
            self._token_decimals = int(self.token.functions.decimals().call())
        return self._token_decimals

    @property
    def token_symbol(self) -> str:
        if self._token_symbol is None:
            self._token_symbol = str(self.token.functions.symbol().call())
        return self._token_symbol

    def balance(self, account: ChecksumAddress) -> int:
        return int(self.token.functions.balanceOf(account).call())

    def allowance(self, owner: ChecksumAddress) -> int:
        return int(self.token.functions.allowance(owner, self.ledger.address).call())

    def show(self, units: int) -> str:
        """Units of the deployment's token for people: ``1250.5 tUSDC``."""
        return f"{format_amount(units, self.token_decimals)} {self.token_symbol}"

    # ----------------------------------------------------------------- reads

    def now(self) -> int:
        return chain_time(self.w3)

    def loan_count(self) -> int:
        return int(self.ledger.functions.loanCount().call())

    def loan_view(self, loan_id: int) -> dict[str, Any]:
        """The raw ``loan(id)`` struct as a dict; LoanNotFound for an unknown id."""
        if loan_id <= 0:
            raise LoanNotFound(f"Loan ids start at 1; there is no loan {loan_id}.")
        try:
            raw = call(self.ledger.functions.loan(loan_id), self.decoder)
        except TransactionReverted as exc:
            if exc.error_name == "LoanNotFound":
                raise LoanNotFound(
                    f"There is no loan {loan_id}; the ledger holds {self.loan_count()} loans."
                ) from None
            raise
        return dict(zip(self._outputs["loan"], raw, strict=True))

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

    def payoff(self, loan_id: int) -> Payoff:
        """What closes the loan now, split as the repayment would be allocated."""
        return self.loan_with_payoff(loan_id)[1]

    def credit_record(self, borrower: ChecksumAddress) -> CreditRecord:
        """The borrower's totals over every reporter (the registry's ``creditRecord``)."""
        raw = self.registry.functions.creditRecord(borrower).call()
        return CreditRecord.from_view(borrower, dict(zip(self._record_fields, raw, strict=True)))

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

    def has_role(self, role_name: str, account: ChecksumAddress) -> bool:
        return bool(self.ledger.functions.hasRole(role(role_name), account).call())

    def nonce_of(self, borrower: ChecksumAddress) -> int:
        """The nonce the borrower's next origination signature must carry."""
        return int(call(self.ledger.functions.nonces(borrower), self.decoder))

    def claimable(self, lender: ChecksumAddress, token: ChecksumAddress | None = None) -> int:
        """What the ledger holds for ``lender`` in ``token`` (default: the deployment's)."""
        token = token or self.token.address
        return int(call(self.ledger.functions.claimable(lender, token), self.decoder))

    def restructure_proposal(self, loan_id: int) -> RestructureProposal | None:
        """The loan's pending restructuring proposal (the ledger's ``restructureProposal``
        view; None when none is pending: never made, withdrawn, accepted or dropped at
        default), with the servicer and block of the event that made it."""
        self.loan_view(loan_id)
        apr_bps, installments, period, deadline = self.ledger.functions.restructureProposal(
            loan_id
        ).call()
        if int(deadline) == 0:
            return None
        logs = self.ledger.events.RestructureProposed().get_logs(
            from_block=self.deployment.block, argument_filters={"loanId": loan_id}
        )
        last = max(logs, key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))
        return RestructureProposal(
            loan_id=loan_id,
            apr_bps=int(apr_bps),
            installments=int(installments),
            period_seconds=int(period),
            deadline=int(deadline),
            servicer=str(last["args"]["servicer"]),
            block=int(last["blockNumber"]),
        )

    # ----------------------------------------------------------------- writes

    def _send(self, fn: ContractFunction, action: str, gas: int | None = None) -> TxReceipt:
        sender = self._require_sender()
        try:
            return sender.send(fn, action, gas)
        except TransactionReverted as exc:
            raise self._explained(exc, action) from None

    def _explained(self, exc: TransactionReverted, action: str) -> LoanServicingError:
        if exc.revert is not None and exc.error_name == "AccessControlUnauthorizedAccount":
            needed = bytes(exc.revert.args.get("neededRole", b""))
            name = ROLE_NAMES.get(needed, "0x" + needed.hex())
            account = Web3.to_checksum_address(str(exc.revert.args.get("account")))
            return MissingRole(
                f"The account {account} lacks {name} on the ledger: {action} failed."
            )
        return explained(exc, action)

    def _require_role(self, role_name: str, action: str) -> None:
        account = self.account
        if not self.has_role(role_name, account):
            raise MissingRole(
                f"The account {account} lacks {role_name} on the ledger, so it cannot {action}."
            )

    def _open_loan(self, loan_id: int, allow_defaulted: bool) -> dict[str, Any]:
        v = self.loan_view(loan_id)
        status = LoanStatus(int(v["status"]))
        if status is LoanStatus.CLOSED or (status is LoanStatus.DEFAULTED and not allow_defaulted):
            raise LoanNotOpen(f"Loan {loan_id} is {status.label}.")
        return v

    def ensure_allowance(self, amount: int, approve: bool = True) -> HexBytes | None:
        """Approve the ledger for ``amount`` when the allowance is short (or refuse)."""
        owner = self.account
        current = self.allowance(owner)
        if current >= amount:
            return None
        if not approve:
            raise InsufficientFunds(
                f"The account {owner} allows the ledger only {self.show(current)} but "
                f"{self.show(amount)} is needed; approve it first or drop --no-approve."
            )
        receipt = self._send(
            self.token.functions.approve(self.ledger.address, amount), "Approving the ledger"
        )
        return receipt["transactionHash"]

    def _require_balance(self, amount: int, what: str) -> None:
        owner = self.account
        held = self.balance(owner)
        if held < amount:
            raise InsufficientFunds(
                f"The account {owner} holds {self.show(held)} but {what} needs {self.show(amount)}."
            )

    # ----------------------------------------------------------------- origination

    def first_due_timestamp(self, terms: LoanTerms, now: int) -> int:
        """The first due date to originate ``terms`` with: theirs, or one period after ``now``.

        Only checks what is not the ledger's to check (the borrower is a checksummed address);
        the ledger checks the terms themselves (:meth:`check_terms`).
        """
        if not Web3.is_checksum_address(terms.borrower):
            raise InvalidTerms(f"The borrower {terms.borrower} is not a usable address.")
        first_due = terms.first_due_timestamp
        return now + terms.period_seconds if first_due is None else first_due

    def terms_tuple(self, terms: LoanTerms, first_due: int) -> tuple[Any, ...]:
        """The ledger's ``OriginationTerms`` for ``terms`` in the deployment's token."""
        return (
            terms.borrower,
            self.token.address,
            terms.principal,
            terms.apr_bps,
            terms.installments,
            terms.period_seconds,
            first_due,
            int(terms.kind),
            terms.grace_seconds,
            terms.late_fee_bps,
            terms.penalty_apr_bps,
            terms.default_after_days,
        )

    def offer(
        self, terms: LoanTerms, lender: ChecksumAddress, deadline: int, now: int | None = None
    ) -> dict[str, Any]:
        """The EIP-712 message the borrower signs to accept ``terms`` from ``lender`` until
        ``deadline``, with the borrower's next nonce (first due date: theirs, or one period
        after ``now``, default the chain's time)."""
        now = self.now() if now is None else now
        call_terms = self.terms_tuple(terms, self.first_due_timestamp(terms, now))
        return origination_typed_data(
            self.ledger.address,
            int(self.w3.eth.chain_id),
            call_terms,
            lender,
            self.nonce_of(terms.borrower),
            deadline,
        )

    def sign_offer(
        self, terms: LoanTerms, lender: ChecksumAddress, valid_for: int = DEFAULT_VALIDITY
    ) -> SignedTerms:
        """Sign ``terms`` from ``lender`` as their borrower (this account), usable for
        ``valid_for`` seconds; the origination is simulated from the lender first, so terms
        the ledger would refuse are never signed (the lender's missing allowance aside)."""
        sender = self._require_sender()
        if terms.borrower != sender.address:
            raise InvalidTerms(
                f"The signing account {sender.address} is not the borrower {terms.borrower}: "
                "the borrower signs its own terms."
            )
        if valid_for <= 0:
            raise InvalidTerms("The signature must stay valid for some time, such as 1d.")
        now = self.now()
        typed = self.offer(terms, lender, now + valid_for, now)
        signed = SignedTerms(typed, sign_terms(sender.signer.local_account(), typed))
        self.check_terms(signed.terms, signed.deadline, signed.signature, lender)
        return signed

    def check_terms(
        self,
        terms: tuple[Any, ...],
        deadline: int,
        signature: bytes,
        lender: ChecksumAddress | None = None,
    ) -> None:
        """Simulate ``originate(terms, deadline, signature)`` from ``lender`` (default: this
        account) and raise the ledger's refusal.

        The ledger checks the terms, the token, the borrower's signature (and its origination
        policy) before it pulls the principal, so a simulation that passes, or fails only for
        want of the token's allowance (or balance), means the ledger accepts them; any other
        revert is raised as the decoded custom error (TransactionReverted, with its name and
        arguments, explained where a person can act on it).
        """
        try:
            call(
                self.ledger.functions.originate(terms, deadline, signature),
                self.decoder,
                "Originating the loan",
                transaction={"from": lender or self.account},
            )
        except TransactionReverted as exc:
            if exc.error_name in _TERMS_PASSED:
                return
            raise self._explained(exc, "Originating the loan") from None

    def originate(
        self, terms: LoanTerms, approve: bool = True, valid_for: int = DEFAULT_VALIDITY
    ) -> Origination:
        """Originate a loan with this account as lender, signed by its borrower, a dev account
        of the node (any other borrower signs the terms itself: :meth:`sign_offer`, then
        :meth:`originate_signed`); approves the principal if needed.

        Nothing is sent, not even the approval, unless a simulation shows the ledger accepts
        the terms and the signature.
        """
        self._require_role(ORIGINATOR_ROLE, "originate loans")
        now = self.now()
        call_terms = self.terms_tuple(terms, self.first_due_timestamp(terms, now))
        borrower = self.dev_account(terms.borrower)
        if borrower is None:
            raise SignatureFileError(
                f"The borrower {terms.borrower} is not a dev account of this node, so only it "
                "can sign the terms: it runs `loan sign-terms` and the lender originates with "
                "`loan originate --signed-terms FILE`."
            )
        typed = origination_typed_data(
            self.ledger.address,
            int(self.w3.eth.chain_id),
            call_terms,
            self.account,
            self.nonce_of(terms.borrower),
            now + valid_for,
        )
        signed = SignedTerms(typed, sign_terms(borrower.local_account(), typed))
        return self._originate(signed, approve)

    def verify_signed_terms(self, signed: SignedTerms) -> None:
        """Refuse, with one sentence, signed terms this account cannot originate: another
        chain, ledger or token, another lender, a used nonce, an expired deadline, or a
        signature that is not the borrower's over exactly these terms."""
        lender = self.account
        chain_id = int(self.w3.eth.chain_id)
        if signed.chain_id != chain_id or signed.ledger != self.ledger.address:
            raise SignatureFileError(
                f"The terms were signed for the ledger {signed.ledger} on chain "
                f"{signed.chain_id}, not this deployment's ledger {self.ledger.address} on "
                f"chain {chain_id}."
            )
        if signed.lender != lender:
            raise SignatureFileError(
                f"The terms were signed for the lender {signed.lender}, not for the signing "
                f"account {lender}."
            )
        if signed.token != self.token.address:
            raise SignatureFileError(
                f"The terms lend the token {signed.token}, but this deployment's token is "
                f"{self.token.address}."
            )
        now = self.now()
        if signed.deadline <= now:
            raise SignatureFileError(
                f"The borrower's signature expired at {iso_date(signed.deadline)} (the chain's "
                f"time is {iso_date(now)}); ask the borrower to sign the terms again."
            )
        nonce = self.nonce_of(signed.borrower)
        if signed.nonce != nonce:
            raise SignatureFileError(
                f"The terms carry the borrower's nonce {signed.nonce}, but its next nonce is "
                f"{nonce}: they were used or replaced already; ask the borrower to sign again."
            )
        expected = bytes(
            call(
                self.ledger.functions.originationDigest(signed.terms, lender, signed.deadline),
                self.decoder,
            )
        )
        if signed.digest() != expected:
            raise SignatureFileError(
                "The signed terms do not encode as the ledger's Origination message (their "
                "digest differs from the ledger's); ask the borrower to sign them again."
            )
        if not self.w3.eth.get_code(signed.borrower) and signed.signer() != signed.borrower:
            raise SignatureFileError(
                f"The signature over the terms is not the borrower {signed.borrower}'s (it "
                f"was made by {signed.signer() or 'no account'}); ask the borrower to sign."
            )

    def originate_signed(self, signed: SignedTerms, approve: bool = True) -> Origination:
        """Originate the loan the borrower signed in ``signed`` with this account as lender;
        approves the principal if needed. The terms are checked
        (:meth:`verify_signed_terms`) and the origination simulated before anything is sent."""
        self._require_role(ORIGINATOR_ROLE, "originate loans")
        self.verify_signed_terms(signed)
        return self._originate(signed, approve)

    def _originate(self, signed: SignedTerms, approve: bool) -> Origination:
        self.check_terms(signed.terms, signed.deadline, signed.signature)
        self._require_balance(signed.principal, "the loan's principal")
        self.ensure_allowance(signed.principal, approve)
        receipt = self._send(
            self.ledger.functions.originate(signed.terms, signed.deadline, signed.signature),
            "Originating the loan",
        )
        (event,) = self.ledger.events.LoanOriginated().process_receipt(receipt, errors=DISCARD)
        return Origination(
            int(event["args"]["loanId"]),
            receipt["transactionHash"].to_0x_hex(),
            int(receipt["gasUsed"]),
            signed.borrower,
            signed.nonce,
        )

    def allow_token(self, token: ChecksumAddress, allowed: bool = True) -> TokenPermission:
        """Allow (or disallow) new loans in ``token`` (the ledger's admin only)."""
        self._require_role(DEFAULT_ADMIN_ROLE, "allow tokens")
        what = "Allowing" if allowed else "Disallowing"
        receipt = self._send(
            self.ledger.functions.setTokenAllowed(token, allowed), f"{what} token {token}"
        )
        (event,) = self.ledger.events.TokenAllowed().process_receipt(receipt, errors=DISCARD)
        a = event["args"]
        return TokenPermission(
            str(a["token"]),
            int(a["tokenId"]),
            int(a["decimals"]),
            bool(a["allowed"]),
            receipt["transactionHash"].to_0x_hex(),
        )

    # ----------------------------------------------------------------- repayment

    def repay(self, loan_id: int, amount: int, approve: bool = True) -> Repayment:
        """Pay up to ``amount`` towards a loan from this account (anyone may pay)."""
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

    def claim(
        self, to: ChecksumAddress | None = None, token: ChecksumAddress | None = None
    ) -> Claim:
        """Pay this account's held repayments in ``token`` (default: the deployment's) to
        ``to`` (default: this account), as when the token refuses transfers to it."""
        lender = self.account
        token = token or self.token.address
        to = to or lender
        if to == ZERO_ADDRESS:
            raise InvalidTerms("Held repayments cannot be claimed to the zero address.")
        amount = self.claimable(lender, token)
        if amount == 0:
            raise InsufficientFunds(
                f"Nothing is held for {lender} in token {token}, so there is nothing to claim."
            )
        action = f"Claiming the repayments held for {lender}"
        fn = self.ledger.functions.claim(token, to)
        try:
            receipt = self._require_sender().send(fn, action)
        except TransactionReverted as exc:
            if exc.revert is not None and exc.revert.name in ("NothingToClaim", "ZeroAddress"):
                raise self._explained(exc, action) from None
            reason = str(exc.revert) if exc.revert is not None else "no reason given"
            raise LedgerRefusal(
                exc,
                f"{action} was refused: the token refuses to pay {to} ({reason}), so name "
                "another recipient with --to.",
            ) from None
        (event,) = self.ledger.events.Claimed().process_receipt(receipt, errors=DISCARD)
        decimals = self.token_decimals if token == self.token.address else self._decimals(token)
        return Claim(
            lender=lender,
            token=token,
            to=str(event["args"]["to"]),
            amount=int(event["args"]["amount"]),
            decimals=decimals,
            tx_hash=receipt["transactionHash"].to_0x_hex(),
            gas_used=int(receipt["gasUsed"]),
        )

    def _decimals(self, token: ChecksumAddress) -> int:
        bound = self.w3.eth.contract(address=token, abi=self.token.abi)
        return int(bound.functions.decimals().call())

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

    def propose_restructure(
        self, loan_id: int, apr_bps: int, installments: int, period_seconds: int, deadline: int
    ) -> TxReceipt:
        """Offer new terms for the rest of a loan; the borrower may accept until ``deadline``.

        The ledger checks the new schedule and the deadline; a refusal sends nothing (the
        transaction's gas is estimated first) and is raised as its decoded error.
        """
        self._open_loan(loan_id, allow_defaulted=False)
        self._require_role(SERVICER_ROLE, "propose restructurings")
        return self._send(
            self.ledger.functions.proposeRestructure(
                loan_id, apr_bps, installments, period_seconds, deadline
            ),
            f"Proposing a restructuring of loan {loan_id}",
        )

    def accept_restructure(
        self, loan_id: int, proposal: RestructureProposal | None = None
    ) -> tuple[RestructureProposal, TxReceipt]:
        """Accept exactly the terms of ``proposal`` (default: the latest proposal made) as the
        borrower; the ledger refuses terms that are not its pending proposal's
        (RestructureTermsMismatch). Returns the terms accepted and the receipt."""
        v = self._open_loan(loan_id, allow_defaulted=False)
        if v["borrower"] != self.account:
            raise MissingRole(
                f"Only the borrower {v['borrower']} may accept a restructuring of loan {loan_id}."
            )
        if proposal is None:
            proposal = self.restructure_proposal(loan_id)
            if proposal is None:
                raise InvalidTerms(f"Loan {loan_id} has no restructuring proposal to accept.")
        if proposal.loan_id != loan_id:
            raise InvalidTerms(
                f"The proposal named is for loan {proposal.loan_id}, not loan {loan_id}."
            )
        receipt = self._send(
            self.ledger.functions.acceptRestructure(
                loan_id,
                proposal.apr_bps,
                proposal.installments,
                proposal.period_seconds,
                proposal.deadline,
            ),
            f"Accepting the restructuring of loan {loan_id}",
        )
        return proposal, receipt

    def withdraw_restructure(self, loan_id: int) -> TxReceipt:
        """Withdraw the loan's pending restructuring proposal (servicer role)."""
        self.loan_view(loan_id)
        self._require_role(SERVICER_ROLE, "withdraw restructurings")
        return self._send(
            self.ledger.functions.withdrawRestructure(loan_id),
            f"Withdrawing the restructuring proposal of loan {loan_id}",
        )
