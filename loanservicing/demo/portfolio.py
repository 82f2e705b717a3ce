"""A lending portfolio run for months on a local chain (the ``demo`` command's simulation).

On its own Anvil (or ``--rpc-url`` to a dev chain) the demo deploys the system with a 6-decimal
test stablecoin whose issuer keeps a blocklist (BlocklistStablecoin, as USDC's issuer does),
funds two lenders (the deployer and a fund) and a dozen borrowers, originates loans of all
three schedule kinds, each on terms its borrower signed (EIP-712, with its nonce and a
deadline; the ledger checks the signature), and then lives through the months day by day with
``evm_setNextBlockTimestamp``: borrowers mostly pay on time, some pay late inside or after the
grace period, some pay only part, a few stop paying and are assessed weekly and declared in
default past the threshold; one loan is restructured, one paid off early, one borrower is
granted a payment holiday and one who fell behind a forbearance. A third of the
way in, the token's issuer blocks the fund: the ledger cannot pay it, so it holds the fund's
repayments as its claimable balance (RepaymentHeld), which the fund claims to its treasury at
the end. It ends with a portfolio summary and the credit records of a few borrowers.

Reproducible: ``--seed`` drives every choice through ``random.Random(seed)``; borrower keys
derive from the seed; the simulation starts at the next UTC midnight and, on Anvil, every block
advances the clock by exactly one second (``anvil_setBlockTimestampInterval``), so amounts and
counts repeat exactly (only calendar dates move with the day the demo runs).

Monitors hook in through ``on_day``: callables run after each simulated day with a
:class:`DemoDay` (the servicer, the day number and the chain time). The post-loan monitor
(:class:`loanservicing.monitoring.service.DayMonitor`, over its own in-memory event index)
is one of them unless ``monitor=False``: the summary counts the notices it raised.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.logs import DISCARD
from web3.types import RPCEndpoint

from loanservicing.amounts import iso_date
from loanservicing.chain.abi import role
from loanservicing.chain.accounts import Signer, TransactionSender, dev_signer
from loanservicing.chain.node import chain_time, connect, is_dev_chain, mine, set_next_timestamp
from loanservicing.demo.data_sharing import run_data_sharing
from loanservicing.demo.profiles import (
    FORBEAR,
    HOLIDAY,
    LATE,
    LATE_IN_GRACE,
    ON_TIME,
    PARTIAL,
    PAYOFF,
    RESTRUCTURE,
    STOPPER,
    UNIT,
    Borrower,
    DemoLoan,
    draw_profiles,
    draw_terms,
)
from loanservicing.demo.records import (
    DayHook,
    DemoConfig,
    DemoDay,
    DemoReport,
    Reporter,
    SilentReporter,
)
from loanservicing.demo.servicer_week import ServicerWeek
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.compile import ContractArtifact, compile_contracts
from loanservicing.deployment.deploy import ORIGINATOR_ROLE, deploy_system
from loanservicing.errors import LoanServicingError
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LoanState
from loanservicing.monitoring.notices import NOTICE_KINDS
from loanservicing.monitoring.service import DayMonitor
from loanservicing.servicing.borrower_signature import TermsSigner
from loanservicing.servicing.portfolio import summarize
from loanservicing.servicing.servicer import Servicer

__all__ = [
    "DemoConfig",
    "DemoDay",
    "DemoReport",
    "PortfolioDemo",
    "Reporter",
    "SilentReporter",
    "run_demo",
]

MAX_UINT = 2**256 - 1
ORIGINATE_GAS = 600_000
REPAY_GAS = 700_000
SMALL_GAS = 120_000
TOKEN_CONTRACT = "BlocklistStablecoin"
"""The demo's stablecoin: its issuer (the deployer) can block an address."""
FUND_SHARE = 4
"""Every FUND_SHARE-th loan is lent by the fund, the second lender."""


class PortfolioDemo(ServicerWeek):
    """One run of the demo on a dev chain."""

    def __init__(
        self,
        w3: Web3,
        config: DemoConfig,
        reporter: Reporter | None = None,
        on_day: Sequence[DayHook] = (),
        artifacts: dict[str, ContractArtifact] | None = None,
        monitor: bool = True,
    ) -> None:
        if not is_dev_chain(w3):
            raise LoanServicingError("The demo needs a dev chain (Anvil, Hardhat) to move time.")
        if config.loans < 1 or config.borrowers < 1 or config.months < 1:
            raise LoanServicingError("The demo needs at least one loan, borrower and month.")
        self.w3 = w3
        self.config = config
        self.rng = random.Random(config.seed)
        self.reporter = reporter or SilentReporter()
        self.on_day = list(on_day)
        self.artifacts = artifacts or compile_contracts()
        self.counts: Counter[str] = Counter()
        self.transactions = 0
        self.start = 0
        self.loans: list[DemoLoan] = []
        self.with_monitor = monitor
        self.monitor: DayMonitor | None = None
        self.shared: list[str] = []
        self.data_contracts: dict[str, str] = {}
        self.held: dict[str, Any] = {}
        self.block_day = max(1, config.days // 3)

    # ----------------------------------------------------------------- driver

    def run(self) -> DemoReport:
        began = time.monotonic()
        try:
            self._setup_clock()
            self.reporter.phase(
                "Deploying the credit registry, the ledger and tUSDC (a stablecoin whose "
                "issuer keeps a blocklist)"
            )
            sender = TransactionSender(self.w3, dev_signer(0), revert_decoder(self.artifacts))
            first_nonce = sender.nonce()
            deployment = deploy_system(
                sender, self.artifacts, None, 6, token_contract=TOKEN_CONTRACT
            )
            self.transactions += sender.nonce() - first_nonce
            self.servicer = Servicer(self.w3, deployment, self.artifacts, dev_signer(0))
            self.issuer = self.w3.eth.contract(
                address=deployment.token.address, abi=self.artifacts[TOKEN_CONTRACT].abi
            )
            if self.with_monitor:
                self.monitor = DayMonitor(
                    str(getattr(self.w3.provider, "endpoint_uri", "")),
                    deployment.ledger.address,
                    deployment.credit_registry.address,
                    deployment.block,
                    abis={
                        "ledger": self.artifacts["LoanLedger"].abi,
                        "credit_registry": self.artifacts["CreditRegistry"].abi,
                    },
                )
                self.on_day.append(self.monitor)
            self.lender = self.servicer._require_sender()
            self._pin_fees(self.lender)
            self.borrowers = self._borrowers()
            self.fund, self.treasury = self._fund()
            self._originate()
            self._fund_borrowers()
            for day in range(1, self.config.days + 1):
                self._day(day)
            self._claim_held()
        finally:
            self.reporter.close()
            with suppress(Web3Exception, ValueError):  # give the node its wall clock back
                _request(self.w3, "anvil_removeBlockTimestampInterval", [])
        summary = summarize(self.servicer)
        credit_records = self._credit_records()
        if self.config.data_sharing:  # after the portfolio figures: its loans are not the demo's
            self._share_data()
        notices: dict[str, int] = {}
        examples: list[str] = []
        if self.monitor is not None:
            notices = self.monitor.counts()
            examples = _notice_examples(self.monitor)
            self.monitor.close()
        return DemoReport(
            config=self.config,
            chain_id=self.lender.chain_id,
            ledger=self.servicer.ledger.address,
            start_timestamp=self.start,
            end_timestamp=chain_time(self.w3),
            elapsed_seconds=time.monotonic() - began,
            transactions=self.transactions,
            counts=self.counts,
            summary=summary,
            credit_records=credit_records,
            profiles=Counter(loan.profile for loan in self.loans),
            notices=notices,
            notice_examples=examples,
            shared=self.shared,
            data_contracts=self.data_contracts,
            held=self.held,
        )

    def _share_data(self) -> None:
        """Attestations, consents, consent-checked vault reads and one erasure; the personal
        documents stay in a temporary vault, only salted hashes reach the chain."""
        self.reporter.phase("Sharing verified facts: attestations, consents, vault, erasure")
        with tempfile.TemporaryDirectory(prefix="loanservicing-vault-") as vault_dir:
            result = run_data_sharing(
                self.w3,
                self.artifacts,
                self.servicer.ledger,
                self.servicer.token,
                Path(vault_dir),
                enforce_policy=False,
            )
        self.shared = result.shared_with_whom()
        self.data_contracts = {
            "attestation_registry": result.contracts.attestation_registry.address,
            "consent_registry": result.contracts.consent_registry.address,
            "attestation_policy": result.contracts.policy.address,
        }

    def _setup_clock(self) -> None:
        # Anvil: one second per block, whatever the wall clock does (elsewhere: wall clock).
        with suppress(Web3Exception, ValueError):
            _request(self.w3, "anvil_setBlockTimestampInterval", [1])
        self.start = (chain_time(self.w3) // DAY + 1) * DAY
        set_next_timestamp(self.w3, self.start)
        mine(self.w3)

    def _pin_fees(self, sender: TransactionSender) -> None:
        sender.pinned_fees = None
        sender.pinned_fees = sender.fees()

    # ----------------------------------------------------------------- setup

    def _borrowers(self) -> list[Borrower]:
        self.reporter.phase(
            f"Creating {self.config.borrowers} borrowers from seed {self.config.seed}"
        )
        borrowers = []
        for i in range(self.config.borrowers):
            key = Web3.keccak(text=f"loanservicing demo seed {self.config.seed} borrower {i}")
            signer = Signer(Account.from_key(key), f"demo borrower {i}")
            _request(self.w3, "hardhat_setBalance", [signer.address, hex(10**21)])
            sender = TransactionSender(self.w3, signer, self.servicer.decoder)
            sender.pinned_fees = self.lender.pinned_fees
            borrowers.append(Borrower(i, signer, sender))
        return borrowers

    def _fund(self) -> tuple[TransactionSender, ChecksumAddress]:
        """The second lender (a fund, seed-derived like the borrowers, with the originator
        role) and the treasury address it claims held repayments to."""
        seed = self.config.seed
        key = Web3.keccak(text=f"loanservicing demo seed {seed} fund")
        signer = Signer(Account.from_key(key), "demo fund")
        _request(self.w3, "hardhat_setBalance", [signer.address, hex(10**21)])
        sender = TransactionSender(self.w3, signer, self.servicer.decoder)
        sender.pinned_fees = self.lender.pinned_fees
        grant = self.servicer.ledger.functions.grantRole(role(ORIGINATOR_ROLE), signer.address)
        self.lender.send(grant, "Granting the fund the originator role", gas=SMALL_GAS)
        self.transactions += 1
        treasury = Account.from_key(Web3.keccak(text=f"loanservicing demo seed {seed} treasury"))
        return sender, treasury.address

    def _originate(self) -> None:
        n = self.config.loans
        self.reporter.phase(
            f"Originating {n} loans (annuity, equal-principal, bullet), each on terms its "
            "borrower signed (EIP-712)"
        )
        profiles = draw_profiles(n, self.rng)
        plans = []
        for i in range(n):
            borrower = (
                self.borrowers[i % len(self.borrowers)]
                if i < len(self.borrowers)
                else (self.rng.choice(self.borrowers))
            )
            lender = self.fund if i % FUND_SHARE == FUND_SHARE - 1 else self.lender
            plans.append(
                (borrower, lender, draw_terms(i, borrower, self.rng, self.start), profiles[i])
            )
        lent: Counter[str] = Counter()
        for _, lender, terms, _ in plans:
            lent[lender.address] += terms.principal
        token, ledger = self.servicer.token, self.servicer.ledger
        setup = []
        for sender in (self.lender, self.fund):
            mint = token.functions.mint(sender.address, lent[sender.address])
            setup.append((self.lender, self.lender.submit(mint, gas=SMALL_GAS)))
            approve = token.functions.approve(ledger.address, MAX_UINT)
            setup.append((sender, sender.submit(approve, gas=SMALL_GAS)))
        self._wait_all(setup)
        # Every borrower signs its terms for its lender with its next nonce; the signatures
        # are made ahead of mining, in the order the originations are sent.
        signer = TermsSigner(ledger)
        deadline = chain_time(self.w3) + DAY
        hashes = []
        for borrower, lender, terms, _ in plans:
            fn = signer.originate(
                borrower.signer.local_account(),
                self.servicer.terms_tuple(terms, terms.first_due_timestamp or 0),
                lender.address,
                deadline,
            )
            hashes.append((lender, lender.submit(fn, "Originating", gas=ORIGINATE_GAS)))
        receipts = self._wait_all(hashes)
        for (borrower, lender, terms, profile), receipt in zip(plans, receipts, strict=True):
            (event,) = ledger.events.LoanOriginated().process_receipt(receipt, errors=DISCARD)
            loan = DemoLoan(int(event["args"]["loanId"]), borrower, profile, lender.address)
            if profile == STOPPER:
                loan.stop_after = self.rng.randint(0, 1)
            elif profile in (RESTRUCTURE, FORBEAR):
                loan.stop_after = 1
            self.loans.append(loan)
            self.counts["originated"] += 1
            self.counts["borrower_signed"] += 1
            self.counts[f"originated_{terms.kind.label}"] += 1
        for loan in self.loans:
            self._plan(loan, 0)
        total = sum(lent.values())
        self.reporter.event(
            f"{n} loans, {self.servicer.show(total)} lent to {len(self.borrowers)} borrowers "
            f"by the lender and a fund ({self.servicer.show(lent[self.fund.address])}); every "
            "borrower signed its terms (EIP-712, with its nonce and a deadline) and the ledger "
            "checked each signature"
        )

    def _fund_borrowers(self) -> None:
        self.reporter.phase("Funding borrowers for interest and approving the ledger")
        token, ledger = self.servicer.token, self.servicer.ledger
        owed: Counter[int] = Counter()
        for loan in self.loans:
            owed[loan.borrower.index] += self.servicer.loan_view(loan.loan_id)["principal"]
        submitted = []
        for b in self.borrowers:
            buffer = owed[b.index] // 2 + 1_000 * UNIT
            submitted.append(
                (
                    self.lender,
                    self.lender.submit(
                        token.functions.mint(b.signer.address, buffer), gas=SMALL_GAS
                    ),
                )
            )
            submitted.append(
                (
                    b.sender,
                    b.sender.submit(
                        token.functions.approve(ledger.address, MAX_UINT), gas=SMALL_GAS
                    ),
                )
            )
        self._wait_all(submitted)

    # ----------------------------------------------------------------- one day

    def _day(self, day: int) -> None:
        now = self.start + day * DAY
        set_next_timestamp(self.w3, now)
        mine(self.w3)
        if day == self.block_day:
            self._block_fund(day)
        due_today = [
            loan
            for loan in self.loans
            if loan.status == "active" and loan.next_day is not None and loan.next_day <= day
        ]
        if due_today:
            self._pay(due_today, day)
        if day % 7 == 0:
            self._weekly_review(day)
        for hook in self.on_day:
            hook(DemoDay(day, chain_time(self.w3), self.servicer))
        self.reporter.day(day, self.config.days, now, self.counts)

    def _pay(self, loans: list[DemoLoan], day: int) -> None:
        submitted = []
        paying = []
        for loan in loans:
            amount = self._amount(loan, day)
            if amount <= 0:
                self._plan(loan, day)
                continue
            fn = self.servicer.ledger.functions.repay(loan.loan_id, amount)
            submitted.append((loan.borrower.sender, loan.borrower.sender.submit(fn, gas=REPAY_GAS)))
            paying.append(loan)
        receipts = self._wait_all(submitted)
        for loan, receipt in zip(paying, receipts, strict=True):
            result = self.servicer.repayment_from_receipt(loan.loan_id, receipt, 6)
            loan.payments += 1
            self.counts["repayments"] += 1
            if result.held:
                self.counts["held_repayments"] += 1
            if result.fees or result.penalty:
                self.counts["late_payments"] += 1
            if loan.profile == PARTIAL and loan.payments % 3:
                self.counts["partial_payments"] += 1
            if result.status == "closed":
                loan.status = "closed"
                self.counts["closed"] += 1
                if loan.profile == PAYOFF:
                    self.counts["payoffs"] += 1
                    self.reporter.event(
                        f"Loan {loan.loan_id} paid off early on day {day} "
                        f"({self.servicer.show(result.total)})",
                        "good",
                    )
                else:
                    self.reporter.event(f"Loan {loan.loan_id} repaid in full on day {day}")
            self._plan(loan, day)

    def _amount(self, loan: DemoLoan, day: int) -> int:
        if loan.profile == PAYOFF and day >= self.config.days * 45 // 100:
            payoff = int(self.servicer.ledger.functions.payoffAmount(loan.loan_id).call())
            return payoff + UNIT  # the ledger takes at most the payoff
        due = self.servicer.amount_due(loan.loan_id)
        owed = due["pastDue"] or due["pastDue"] + due["currentInterest"] + due["currentPrincipal"]
        if loan.profile == PARTIAL and (loan.payments + 1) % 3:
            return owed * self.rng.randint(40, 80) // 100
        return owed

    def _plan(self, loan: DemoLoan, day: int) -> None:
        """Choose the day of the loan's next payment from its next unpaid installment."""
        view = self.servicer.loan_view(loan.loan_id)
        if int(view["status"]) != 0:
            loan.next_day = None
            return
        paid, total = int(view["installmentsPaid"]), int(view["installments"])
        stopped = loan.profile in (STOPPER, RESTRUCTURE, FORBEAR) and not (
            loan.restructured or loan.relieved
        )
        if paid >= total or (stopped and loan.payments >= loan.stop_after):
            loan.next_day = None
            return
        due = LoanState.from_view(loan.loan_id, view).due_date(paid + 1)
        due_day = (due - self.start) // DAY
        offset = {
            ON_TIME: self.rng.choice([-2, -1, 0, 0, 0]),
            PAYOFF: 0,
            STOPPER: 0,
            RESTRUCTURE: 0,
            LATE_IN_GRACE: self.rng.randint(1, 4),
            LATE: self.rng.randint(8, 25),
            PARTIAL: self.rng.choice([0, 1, 3]),
            HOLIDAY: 0,
            FORBEAR: 0,
        }[loan.profile]
        next_day = max(due_day + offset, loan.resume_day)
        if loan.profile == PAYOFF:
            next_day = min(next_day, max(day + 1, self.config.days * 45 // 100))
        if next_day <= day:
            next_day = day + (self.rng.randint(5, 12) if loan.profile == PARTIAL else 1)
        loan.next_day = next_day

    # ----------------------------------------------------------------- the blocklist

    def _block_fund(self, day: int) -> None:
        """The token's issuer blocks the fund: the ledger can no longer pay it."""
        block = self.issuer.functions.setBlocked(self.fund.address, True)
        self.lender.send(block, "Blocking the fund", gas=SMALL_GAS)
        self.transactions += 1
        self.reporter.event(
            f"Day {day}: the token's issuer blocks the fund {self.fund.address}; the ledger "
            "holds its repayments for it to claim",
            "warning",
        )

    def _claim_held(self) -> None:
        """The fund claims what the ledger held for it to its treasury (it is still blocked,
        so it names another recipient), then the issuer unblocks it."""
        fund = self.fund.address
        claimable = self.servicer.claimable(fund)
        self.held = {
            "lender": fund,
            "token": self.servicer.token.address,
            "blocked_on_day": self.block_day,
            "repayments_held": self.counts["held_repayments"],
            "claimable": claimable,
            "claimed": 0,
            "claimed_to": None,
            "decimals": self.servicer.token_decimals,
        }
        if claimable:
            self.reporter.event(
                f"The ledger holds {self.servicer.show(claimable)} of repayments for the fund "
                f"(claimable balance, {self.counts['held_repayments']} repayments)"
            )
            fund_servicer = self.servicer.as_account(self.fund.signer)
            fund_servicer.sender = self.fund
            claim = fund_servicer.claim(to=self.treasury)
            self.transactions += 1
            self.held.update(claimed=claim.amount, claimed_to=claim.to)
            self.reporter.event(
                f"The fund claimed {self.servicer.show(claim.amount)} to its treasury {claim.to}",
                "good",
            )
        unblock = self.issuer.functions.setBlocked(fund, False)
        self.lender.send(unblock, "Unblocking the fund", gas=SMALL_GAS)
        self.transactions += 1

    # ----------------------------------------------------------------- helpers

    def _wait_all(self, submitted: list[tuple[TransactionSender, HexBytes]]) -> list[Any]:
        receipts = [sender.wait(tx_hash) for sender, tx_hash in submitted]
        self.transactions += len(receipts)
        return receipts

    def _credit_records(self) -> list[dict[str, Any]]:
        records = [self.servicer.credit_record(b.signer.address) for b in self.borrowers]
        chosen = []
        for key in (
            lambda r: (r.defaults, r.missed),
            lambda r: (r.paid_late, r.missed),
            lambda r: (r.paid_on_time, -r.paid_late),
            lambda r: (r.loans_closed, r.paid_on_time),
        ):
            for record in sorted(records, key=key, reverse=True):
                if record not in chosen:
                    chosen.append(record)
                    break
        return [r.to_json() for r in chosen]


def _request(w3: Web3, method: str, params: list[Any]) -> Any:
    return w3.manager.request_blocking(RPCEndpoint(method), params)


def _notice_examples(monitor: DayMonitor) -> list[str]:
    """The first notice of each kind, as one line each."""
    from loanservicing.monitoring.channels import describe

    seen: dict[str, str] = {}
    for notice in monitor.raised:
        if notice.kind not in seen:
            seen[notice.kind] = f"{iso_date(notice.chain_timestamp)[:10]} {describe(notice)}"
    return [seen[kind] for kind in NOTICE_KINDS if kind in seen]


def run_demo(
    config: DemoConfig,
    rpc_url: str | None = None,
    reporter: Reporter | None = None,
    on_day: Sequence[DayHook] = (),
) -> DemoReport:
    """Run the demo on a new Anvil (stopped afterwards) or on the dev chain at ``rpc_url``."""
    w3, node = connect(rpc_url)
    try:
        return PortfolioDemo(w3, config, reporter, on_day).run()
    finally:
        if node is not None:
            node.stop()
