"""The servicing API: originate, repay, quote, inspect, restructure and default loans.

``Servicer`` binds a node, a deployment and (for writes) a locally signing account::

    w3, node = connect(rpc_url)
    servicer = Servicer.open(w3, deployment, signer=dev_signer(0))
    loan_id = servicer.originate(LoanTerms(borrower, 10_000 * 10**6, 1200, 12, 30 * DAY)).loan_id
    servicer.loan(loan_id).next_due_amount

Every write checks its input first (the loan exists and is open, the amount is positive, the
account holds the tokens and the role it needs) and has its gas estimated before signing, so a
write that would fail sends nothing. Amounts are ints in the token's smallest unit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import Web3Exception
from web3.logs import DISCARD
from web3.types import RPCEndpoint, TxReceipt

from loanservicing.amounts import format_amount
from loanservicing.chain.accounts import Signer, TransactionSender
from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.node import chain_time, increase_time, is_dev_chain
from loanservicing.chain.transactions import call, send
from loanservicing.deployment.compile import ContractArtifact, compile_contracts
from loanservicing.deployment.deploy import (
    ORIGINATOR_ROLE,
    REPORTER_ROLE,
    SERVICER_ROLE,
    revert_decoder,
    role,
)
from loanservicing.deployment.manifest import Deployment
from loanservicing.errors import LoanServicingError
from loanservicing.ledger.schedule import Curve, ScheduleKind
from loanservicing.servicing.errors import (
    DevChainOnly,
    InsufficientFunds,
    InvalidTerms,
    LoanNotFound,
    LoanNotOpen,
    MissingRole,
    NoSigner,
)

__all__ = [
    "STATUS_LABELS",
    "CreditRecord",
    "DevChainOnly",
    "InsufficientFunds",
    "LoanNotFound",
    "LoanState",
    "LoanTerms",
    "MissingRole",
    "NoSigner",
    "Origination",
    "Payoff",
    "Repayment",
    "ScheduleRow",
    "Servicer",
    "bucket_of",
]

DAY = 86_400
STATUS_LABELS = ("active", "defaulted", "closed")
ACTIVE, DEFAULTED, CLOSED = 0, 1, 2
ROLE_NAMES = {
    role(name): name
    for name in ("DEFAULT_ADMIN_ROLE", ORIGINATOR_ROLE, SERVICER_ROLE, REPORTER_ROLE)
}
# Limits of LoanLedger._validate, checked here so that bad terms send nothing (not even the
# token approval that precedes an origination).
MAX_PRINCIPAL = 2**96 - 1
MAX_INSTALLMENTS = 480
MIN_PERIOD, MAX_PERIOD = DAY, 366 * DAY
MAX_RATE_BPS = 10_000
MAX_LATE_FEE_BPS = 2_500
MAX_GRACE = 90 * DAY
MAX_DEFAULT_DAYS = 3650

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
    """None: one period after origination."""


@dataclass(frozen=True)
class Origination:
    loan_id: int
    tx_hash: str
    gas_used: int


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

    @property
    def total(self) -> int:
        return self.fees + self.penalty + self.interest + self.principal


@dataclass(frozen=True)
class LoanState:
    """A loan as the ledger reports it at ``as_of_timestamp``."""

    loan_id: int
    borrower: ChecksumAddress
    lender: ChecksumAddress
    token: ChecksumAddress
    decimals: int
    status: str
    kind: ScheduleKind
    principal: int
    principal_outstanding: int
    apr_bps: int
    penalty_apr_bps: int
    late_fee_bps: int
    period_seconds: int
    grace_seconds: int
    default_after_days: int
    installments_total: int
    installments_paid: int
    days_past_due: int
    delinquency_bucket: int
    """0 current, 1: 1-30, 2: 31-60, 3: 61-90, 4: over 90 days past due, as of now."""
    recorded_bucket: int
    """The bucket the ledger last recorded (at the latest repayment or assessment)."""
    past_due: int
    next_due_timestamp: int | None
    next_due_amount: int
    next_installment: int | None
    payoff: int
    fees_owed: int
    penalty_owed: int
    paid_principal: int
    paid_interest: int
    base_index: int
    base_principal: int
    segment_start: int
    as_of_timestamp: int


@dataclass(frozen=True)
class ScheduleRow:
    """One installment; amounts are None for installments of an earlier, replaced segment."""

    number: int
    due_timestamp: int | None
    principal: int | None
    interest: int | None
    paid: int | None
    status: str

    @property
    def total(self) -> int | None:
        if self.principal is None or self.interest is None:
            return None
        return self.principal + self.interest


@dataclass(frozen=True)
class Payoff:
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


@dataclass(frozen=True)
class CreditRecord:
    borrower: ChecksumAddress
    paid_on_time: int
    paid_late: int
    missed: int
    days_past_due: int
    max_days_past_due: int
    defaults: int
    loans_opened: int
    loans_closed: int
    total_repaid: int
    """In 18-decimal units, whatever the loans' tokens."""
    decimals: int = 18

    def to_json(self) -> dict[str, Any]:
        """The record as the CLI prints it (`credit show --json`)."""
        return asdict(self)


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
        self._outputs = {name: _output_fields(self.ledger, name) for name in ("loan", "amountDue")}
        self._record_fields = _output_fields(self.registry, "creditRecord")
        self._token_decimals: int | None = None
        self._token_symbol: str | None = None

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

    @property
    def account(self) -> ChecksumAddress:
        return self._require_sender().address

    def _require_sender(self) -> TransactionSender:
        if self.sender is None:
            raise NoSigner("This operation sends a transaction, but no account was given.")
        return self.sender

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

    def loan(self, loan_id: int) -> LoanState:
        view = self.loan_view(loan_id)
        block = self.w3.eth.get_block("latest")
        number = int(block["number"])
        due = self.amount_due_at_block(loan_id, int(block["timestamp"]), number)
        dpd = int(self.ledger.functions.daysPastDue(loan_id).call(block_identifier=number))
        return self._state(loan_id, view, due, dpd, due["asOf"])

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

    def _state(
        self, loan_id: int, v: dict[str, Any], due: dict[str, int], dpd: int, now: int
    ) -> LoanState:
        status = int(v["status"])
        next_due = due["nextDueDate"] or None
        return LoanState(
            loan_id=loan_id,
            borrower=v["borrower"],
            lender=v["lender"],
            token=v["token"],
            decimals=int(v["decimals"]),
            status=STATUS_LABELS[status],
            kind=ScheduleKind(int(v["kind"])),
            principal=int(v["principal"]),
            principal_outstanding=int(v["principalOutstanding"]),
            apr_bps=int(v["aprBps"]),
            penalty_apr_bps=int(v["penaltyAprBps"]),
            late_fee_bps=int(v["lateFeeBps"]),
            period_seconds=int(v["periodSeconds"]),
            grace_seconds=int(v["gracePeriodSeconds"]),
            default_after_days=int(v["defaultAfterDays"]),
            installments_total=int(v["installments"]),
            installments_paid=int(v["installmentsPaid"]),
            days_past_due=dpd,
            delinquency_bucket=bucket_of(dpd) if status == ACTIVE else int(v["bucket"]),
            recorded_bucket=int(v["bucket"]),
            past_due=due["pastDue"],
            next_due_timestamp=next_due,
            next_due_amount=due["pastDue"] + due["currentInterest"] + due["currentPrincipal"],
            next_installment=due["nextInstallment"] or None,
            payoff=due["payoff"],
            fees_owed=due["fees"],
            penalty_owed=due["penalty"],
            paid_principal=int(v["paidPrincipal"]),
            paid_interest=int(v["paidInterest"]),
            base_index=int(v["baseIndex"]),
            base_principal=int(v["basePrincipal"]),
            segment_start=int(v["segmentStart"]),
            as_of_timestamp=now,
        )

    def loans(
        self, borrower: ChecksumAddress | None = None, status: str | None = None
    ) -> list[LoanState]:
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

    def schedule(self, loan_id: int) -> list[ScheduleRow]:
        """Every installment with what was paid towards it and its status now.

        Installments of the segment in force come from ``loanservicing.ledger.schedule.Curve`` (the
        exact mirror of the ledger's ``installment``); installments before the segment (a
        prepayment or restructuring replaced them) are ``settled``: their due dates and
        scheduled amounts are rebuilt from the LoanOriginated and ScheduleReset events (null
        where the node cannot serve those logs); what was paid towards each is not recorded.
        """
        v = self.loan_view(loan_id)
        now = self.now()
        base = int(v["baseIndex"])
        total = int(v["installments"])
        period = int(v["periodSeconds"])
        grace = int(v["gracePeriodSeconds"])
        start = int(v["segmentStart"])
        status = int(v["status"])
        curve = self.curve(v)
        paid_p, paid_i = int(v["paidPrincipal"]), int(v["paidInterest"])
        rows = self._replaced_rows(loan_id, ScheduleKind(int(v["kind"])), base)
        seen_unpaid_current = False
        for j in range(1, total - base + 1):
            cp1, ci1 = curve.cumulative(j)
            cp0, ci0 = curve.cumulative(j - 1)
            principal, interest = max(cp1 - cp0, 0), max(ci1 - ci0, 0)
            paid = (min(cp1, paid_p) - min(cp0, paid_p)) + (min(ci1, paid_i) - min(ci0, paid_i))
            due = start + j * period
            if paid >= principal + interest:
                label = "paid"
            elif status == CLOSED:
                label = "closed"
            elif now > due + grace:
                label = "late"
            elif now > due:
                label = "overdue"
            elif paid > 0:
                label = "partial"
                seen_unpaid_current = True
            elif not seen_unpaid_current:
                label = "due"
                seen_unpaid_current = True
            else:
                label = "upcoming"
            rows.append(ScheduleRow(base + j, due, principal, interest, paid, label))
        return rows

    def _replaced_rows(self, loan_id: int, kind: ScheduleKind, base: int) -> list[ScheduleRow]:
        """Installments 1..base, from the segments that the events describe."""
        unknown = [ScheduleRow(n, None, None, None, None, "settled") for n in range(1, base + 1)]
        if base == 0:
            return []
        filters = {"loanId": loan_id}
        first = self.deployment.block
        try:
            originated = self.ledger.events.LoanOriginated().get_logs(
                from_block=first, argument_filters=filters
            )
            resets = self.ledger.events.ScheduleReset().get_logs(
                from_block=first, argument_filters=filters
            )
        except (Web3Exception, ValueError):
            return unknown
        if len(originated) != 1:
            return unknown
        terms = originated[0]["args"]["terms"]
        t = _struct(terms, _TERMS_FIELDS)
        # (base index, last installment, principal, segment start, apr, period) per segment
        segments = [
            (
                0,
                int(t["installments"]),
                int(t["principal"]),
                int(t["firstDueDate"]) - int(t["periodSeconds"]),
                int(t["aprBps"]),
                int(t["periodSeconds"]),
            )
        ]
        for log in resets:
            a = log["args"]
            segments.append(
                (
                    int(a["baseIndex"]),
                    int(a["installments"]),
                    int(a["basePrincipal"]),
                    int(a["segmentStart"]),
                    int(a["aprBps"]),
                    int(a["periodSeconds"]),
                )
            )
        rows = []
        for n in range(1, base + 1):
            # The installment belongs to the latest segment that started before it.
            seg = next((sg for sg in reversed(segments[:-1]) if sg[0] < n), None)
            if seg is None:
                return unknown
            seg_base, last, principal, start, apr, period = seg
            part_p, part_i = Curve(kind, principal, last - seg_base, apr, period).part(n - seg_base)
            rows.append(
                ScheduleRow(n, start + (n - seg_base) * period, part_p, part_i, None, "settled")
            )
        return rows

    @staticmethod
    def curve(v: dict[str, Any]) -> Curve:
        """The schedule segment in force of a ``loan(id)`` view."""
        return Curve(
            ScheduleKind(int(v["kind"])),
            int(v["basePrincipal"]),
            int(v["installments"]) - int(v["baseIndex"]),
            int(v["aprBps"]),
            int(v["periodSeconds"]),
        )

    def payoff(self, loan_id: int) -> Payoff:
        """What closes the loan now, split as the repayment would be allocated."""
        v = self.loan_view(loan_id)
        block = self.w3.eth.get_block("latest")
        number = int(block["number"])
        amount = int(
            call(self.ledger.functions.payoffAmount(loan_id), self.decoder, block_identifier=number)
        )
        due = self.amount_due_at_block(loan_id, None, number)
        return Payoff(
            loan_id=loan_id,
            amount=amount,
            decimals=int(v["decimals"]),
            fees=due["fees"],
            penalty=due["penalty"],
            interest=due["interest"],
            principal=due["principal"],
            current_interest=due["currentInterest"],
            current_principal=due["currentPrincipal"],
            remaining_principal=due["remainingPrincipal"],
            as_of_timestamp=due["asOf"],
        )

    def credit_record(self, borrower: ChecksumAddress) -> CreditRecord:
        raw = self.registry.functions.creditRecord(borrower).call()
        r = dict(zip(self._record_fields, raw, strict=True))
        return CreditRecord(
            borrower=borrower,
            paid_on_time=int(r["paidOnTime"]),
            paid_late=int(r["paidLate"]),
            missed=int(r["missed"]),
            days_past_due=int(r["currentDaysPastDue"]),
            max_days_past_due=int(r["maxDaysPastDue"]),
            defaults=int(r["defaults"]),
            loans_opened=int(r["loansOpened"]),
            loans_closed=int(r["loansClosed"]),
            total_repaid=int(r["totalRepaid"]),
        )

    def has_role(self, role_name: str, account: ChecksumAddress) -> bool:
        return bool(self.ledger.functions.hasRole(role(role_name), account).call())

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
            account = exc.revert.args.get("account")
            return MissingRole(
                f"The account {account} lacks {name} on the ledger: {action} failed."
            )
        return exc

    def _require_role(self, role_name: str, action: str) -> None:
        account = self.account
        if not self.has_role(role_name, account):
            raise MissingRole(
                f"The account {account} lacks {role_name} on the ledger, so it cannot {action}."
            )

    def _open_loan(self, loan_id: int, allow_defaulted: bool) -> dict[str, Any]:
        v = self.loan_view(loan_id)
        status = int(v["status"])
        if status == CLOSED or (status == DEFAULTED and not allow_defaulted):
            raise LoanNotOpen(f"Loan {loan_id} is {STATUS_LABELS[status]}.")
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

    def validate_terms(self, terms: LoanTerms, now: int) -> int:
        """Check ``terms`` as LoanLedger does; returns the first due timestamp to use."""
        lender = self.account
        if not Web3.is_checksum_address(terms.borrower) or int(terms.borrower, 16) == 0:
            raise InvalidTerms(f"The borrower {terms.borrower} is not a usable address.")
        if terms.borrower == lender:
            raise InvalidTerms(f"The borrower {terms.borrower} is the lender itself.")
        if not 0 < terms.principal <= MAX_PRINCIPAL:
            raise InvalidTerms("The principal must be positive and below 2^96 smallest units.")
        _check_schedule(terms.apr_bps, terms.installments, terms.period_seconds)
        if terms.penalty_apr_bps > MAX_RATE_BPS:
            raise InvalidTerms("The penalty rate may be at most 100 % a year.")
        if terms.late_fee_bps > MAX_LATE_FEE_BPS:
            raise InvalidTerms(f"The late fee may be at most {MAX_LATE_FEE_BPS} basis points.")
        if terms.grace_seconds > MAX_GRACE:
            raise InvalidTerms("The grace period may be at most 90 days.")
        if not 0 < terms.default_after_days <= MAX_DEFAULT_DAYS:
            raise InvalidTerms(f"The default threshold must be 1 to {MAX_DEFAULT_DAYS} days.")
        first_due = terms.first_due_timestamp
        if first_due is None:
            return now + terms.period_seconds
        if not now + 1 < first_due <= now + terms.period_seconds:
            raise InvalidTerms(
                "The first due date must be after now and at most one period from now."
            )
        return first_due

    def originate(self, terms: LoanTerms, approve: bool = True) -> Origination:
        """Originate a loan with this account as lender; approves the principal if needed."""
        self._require_role(ORIGINATOR_ROLE, "originate loans")
        first_due = self.validate_terms(terms, self.now())
        self._require_balance(terms.principal, "the loan's principal")
        self.ensure_allowance(terms.principal, approve)
        receipt = self._send(
            self.ledger.functions.originate(self.terms_tuple(terms, first_due)),
            "Originating the loan",
        )
        (event,) = self.ledger.events.LoanOriginated().process_receipt(receipt, errors=DISCARD)
        return Origination(
            int(event["args"]["loanId"]),
            receipt["transactionHash"].to_0x_hex(),
            int(receipt["gasUsed"]),
        )

    def terms_tuple(self, terms: LoanTerms, first_due: int) -> tuple[Any, ...]:
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
            status=STATUS_LABELS[int(a["status"])],
        )

    def assess(self, loan_id: int) -> TxReceipt:
        """Bring a loan's late charges and delinquency current (anyone may call)."""
        self._open_loan(loan_id, allow_defaulted=False)
        return self._send(self.ledger.functions.assess(loan_id), f"Assessing loan {loan_id}")

    def declare_default(self, loan_id: int) -> TxReceipt:
        """Declare a loan in default once its days past due reach its threshold."""
        self._open_loan(loan_id, allow_defaulted=False)
        self._require_role(SERVICER_ROLE, "declare defaults")
        return self._send(
            self.ledger.functions.declareDefault(loan_id), f"Declaring loan {loan_id} in default"
        )

    def propose_restructure(
        self, loan_id: int, apr_bps: int, installments: int, period_seconds: int, deadline: int
    ) -> TxReceipt:
        """Offer new terms for the rest of a loan; the borrower may accept until ``deadline``."""
        self._open_loan(loan_id, allow_defaulted=False)
        self._require_role(SERVICER_ROLE, "propose restructurings")
        _check_schedule(apr_bps, installments, period_seconds)
        if deadline <= self.now():
            raise InvalidTerms("The restructuring deadline must be in the future.")
        return self._send(
            self.ledger.functions.proposeRestructure(
                loan_id, apr_bps, installments, period_seconds, deadline
            ),
            f"Proposing a restructuring of loan {loan_id}",
        )

    def accept_restructure(self, loan_id: int) -> TxReceipt:
        """Accept the pending proposal (the borrower only)."""
        v = self._open_loan(loan_id, allow_defaulted=False)
        if v["borrower"] != self.account:
            raise MissingRole(
                f"Only the borrower {v['borrower']} may accept a restructuring of loan {loan_id}."
            )
        return self._send(
            self.ledger.functions.acceptRestructure(loan_id),
            f"Accepting the restructuring of loan {loan_id}",
        )

    # ----------------------------------------------------------------- dev chains

    def require_dev_chain(self, what: str) -> None:
        if not is_dev_chain(self.w3):
            raise DevChainOnly(f"{what} works only on a dev chain (Anvil, Hardhat).")

    def faucet(self, account: ChecksumAddress, amount: int, ether: int = 10**20) -> None:
        """Mint test tokens to ``account`` and top up its ether (dev chains only)."""
        self.require_dev_chain("The faucet")
        if not self.deployment.test_token:
            raise DevChainOnly("The faucet mints only the TestStablecoin deployed with the system.")
        owner = Web3.to_checksum_address(self.token.functions.owner().call())
        if int(self.w3.eth.get_balance(account)) < ether:
            _request(self.w3, "hardhat_setBalance", [account, hex(ether)])
        mint = self.token.functions.mint(account, amount)
        own = self._senders.get(owner)
        if own is not None:
            own.send(mint, "Minting test tokens")
            return
        # The token's owner is not an account of ours: the dev node signs for it.
        _request(self.w3, "hardhat_impersonateAccount", [owner])
        send(self.w3, mint, owner, self.decoder, "Minting test tokens")

    def advance_time(self, seconds: int) -> int:
        """Move the dev chain's clock forward and mine a block; returns the new time."""
        self.require_dev_chain("Time travel")
        increase_time(self.w3, seconds)
        return self.now()


def bucket_of(days_past_due: int) -> int:
    """Delinquency bucket of a number of days past due, as LoanLedger._bucketOf."""
    if days_past_due == 0:
        return 0
    if days_past_due <= 30:
        return 1
    if days_past_due <= 60:
        return 2
    return 3 if days_past_due <= 90 else 4


_TERMS_FIELDS = (
    "borrower",
    "token",
    "principal",
    "aprBps",
    "installments",
    "periodSeconds",
    "firstDueDate",
    "kind",
    "gracePeriodSeconds",
    "lateFeeBps",
    "penaltyAprBps",
    "defaultAfterDays",
)


def _struct(value: Any, fields: Sequence[str]) -> dict[str, Any]:
    """A decoded struct as a dict, whether web3 gave a mapping or a tuple."""
    if isinstance(value, Mapping):
        return dict(value)
    return dict(zip(fields, value, strict=True))


def _check_schedule(apr_bps: int, installments: int, period: int) -> None:
    if not 0 <= apr_bps <= MAX_RATE_BPS:
        raise InvalidTerms("The interest rate must be between 0 and 100 % a year.")
    if not 0 < installments <= MAX_INSTALLMENTS:
        raise InvalidTerms(f"The number of installments must be 1 to {MAX_INSTALLMENTS}.")
    if not MIN_PERIOD <= period <= MAX_PERIOD:
        raise InvalidTerms("The period must be between 1 day and 366 days.")


def _output_fields(contract: Contract, name: str) -> list[str]:
    abi: list[dict[str, Any]] = list(contract.abi)  # type: ignore[arg-type]
    item = next(i for i in abi if i.get("type") == "function" and i["name"] == name)
    return [str(c["name"]) for c in item["outputs"][0]["components"]]


def _request(w3: Web3, method: str, params: Sequence[Any]) -> Any:
    return w3.manager.request_blocking(RPCEndpoint(method), list(params))
