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

This module drives the run (the clock, the days, the report); its parts are modules of their
own, each a mixin over the run's shared state (``run``): the borrowers, the fund and the
loans' origination (``origination``), the borrowers' payments (``repayments``), the
servicer's weekly review and its actions (``servicer_week``), the blocked fund's held
repayments (``held_repayments``); the profiles and terms are in ``profiles``, the
configuration, report and reporter in ``records``.
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

from web3 import Web3
from web3.exceptions import Web3Exception

from loanservicing.amounts import iso_date
from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.chain.node import chain_time, connect, is_dev_chain, mine, set_next_timestamp
from loanservicing.demo.data_sharing import run_data_sharing
from loanservicing.demo.held_repayments import HeldRepayments
from loanservicing.demo.origination import Origination
from loanservicing.demo.profiles import DemoLoan
from loanservicing.demo.records import (
    DayHook,
    DemoConfig,
    DemoDay,
    DemoReport,
    Reporter,
    SilentReporter,
)
from loanservicing.demo.repayments import BorrowerRepayments
from loanservicing.demo.run import request
from loanservicing.demo.servicer_week import ServicerWeek
from loanservicing.deployment.bindings import DataContracts, revert_decoder
from loanservicing.deployment.compile import ContractArtifact, compile_contracts
from loanservicing.deployment.deploy import deploy_system
from loanservicing.errors import LoanServicingError
from loanservicing.ledger.schedule import DAY
from loanservicing.monitoring.notices import NOTICE_KINDS
from loanservicing.monitoring.service import DayMonitor
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

TOKEN_CONTRACT = "BlocklistStablecoin"
"""The demo's stablecoin: its issuer (the deployer) can block an address."""


class PortfolioDemo(Origination, BorrowerRepayments, ServicerWeek, HeldRepayments):
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
        self.shared_contracts: DataContracts | None = None  # the data-sharing deployment
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
                request(self.w3, "anvil_removeBlockTimestampInterval", [])
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
        self.shared_contracts = result.contracts
        self.data_contracts = {
            "attestation_registry": result.contracts.attestation_registry.address,
            "consent_registry": result.contracts.consent_registry.address,
            "attestation_policy": result.contracts.policy.address,
        }

    def _setup_clock(self) -> None:
        # Anvil: one second per block, whatever the wall clock does (elsewhere: wall clock).
        with suppress(Web3Exception, ValueError):
            request(self.w3, "anvil_setBlockTimestampInterval", [1])
        self.start = (chain_time(self.w3) // DAY + 1) * DAY
        set_next_timestamp(self.w3, self.start)
        mine(self.w3)

    def _pin_fees(self, sender: TransactionSender) -> None:
        sender.pinned_fees = None
        sender.pinned_fees = sender.fees()

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

    # ----------------------------------------------------------------- helpers

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


def _notice_examples(monitor: DayMonitor) -> list[str]:
    """The first notice of each kind, as one line each, in the order they were raised (by
    chain time; kinds raised at the same second in the order of ``NOTICE_KINDS``)."""
    from loanservicing.monitoring.channels import describe
    from loanservicing.monitoring.notices import Notice

    first: dict[str, Notice] = {}
    for notice in monitor.raised:
        if notice.kind not in first:
            first[notice.kind] = notice
    rank = {kind: i for i, kind in enumerate(NOTICE_KINDS)}
    ordered = sorted(first.values(), key=lambda n: (n.chain_timestamp, rank.get(n.kind, len(rank))))
    return [f"{iso_date(n.chain_timestamp)[:10]} {describe(n)}" for n in ordered]


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
