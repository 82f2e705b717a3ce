"""One driver for every test that needs the deployed system: ``LedgerDriver``.

It deploys through the package's own path (``deployment.deploy.deploy_system``, signed by dev
account 0, bound by ``deployment.bindings.bind``), plus an 18-decimal TestStablecoin, and
drives the contracts at exact timestamps: ``send``, ``fund``, ``originate`` (returns the loan
id), ``repay`` (returns the RepaymentApplied args with ``gas_used`` and ``receipt``),
``reverts(name, fn)``; views come back as dicts named from the ABI.

Fixtures (registered through ``pytest_plugins`` in tests/conftest.py): ``system`` (one
deployment on the session Anvil), ``borrower``, ``originate``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from eth_account.messages import encode_typed_data
from eth_typing import ChecksumAddress
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import RPCEndpoint, TxReceipt

from loanservicing.chain.abi import output_fields
from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.node import AnvilNode, chain_time, mine, set_next_timestamp
from loanservicing.chain.transactions import call, send
from loanservicing.deployment.bindings import bind, revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_contract, deploy_system
from loanservicing.deployment.manifest import Deployment
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.servicing.borrower_signature import origination_typed_data, sign_terms

UNIT = 10**6  # one token of the 6-decimal stablecoin
TIMED_GAS = 3_000_000
"""Gas of a transaction mined at a set timestamp (estimation would run at another time)."""


class LedgerDriver:
    """The deployed contracts plus helpers that drive them at exact timestamps.

    Transactions go from node-managed dev accounts (``accounts[0]`` is the admin, which holds
    every role); ``sender`` arguments are addresses, default the admin."""

    def __init__(
        self,
        w3: Web3,
        rpc_url: str,
        deployment: Deployment,
        token18: Contract,
        artifacts: dict[str, ContractArtifact],
    ) -> None:
        contracts = bind(w3, deployment, artifacts)
        self.w3, self.rpc_url, self.deployment = w3, rpc_url, deployment
        self.ledger, self.registry, self.token = (
            contracts.ledger,
            contracts.credit_registry,
            contracts.token,
        )
        self.token18 = token18
        self.block = deployment.block
        self.artifacts = artifacts
        self.decoder = revert_decoder(artifacts)
        self.admin = deployment.deployer
        self.accounts: list[ChecksumAddress] = list(w3.eth.accounts)

    @classmethod
    def deploy(
        cls, w3: Web3, artifacts: dict[str, ContractArtifact], rpc_url: str = ""
    ) -> LedgerDriver:
        """Deploy the system (and an 18-decimal token) from dev account 0."""
        sender = TransactionSender(w3, dev_signer(0), revert_decoder(artifacts))
        deployment = deploy_system(sender, artifacts)
        token18 = deploy_contract(
            sender, artifacts["TestStablecoin"], "Test DAI", "tDAI", 18, sender.address
        )
        ledger = bind(w3, deployment, artifacts).ledger
        sender.send(ledger.functions.setTokenAllowed(token18.address, True), "Allowing tDAI")
        return cls(w3, rpc_url, deployment, token18, artifacts)

    def __repr__(self) -> str:
        return f"LedgerDriver(ledger={self.ledger.address})"

    def abis(self) -> dict[str, Any]:
        """The ABIs by the indexer's contract roles."""
        return {"ledger": self.ledger.abi, "credit_registry": self.registry.abi}

    # -- time --------------------------------------------------------------------
    def now(self) -> int:
        return chain_time(self.w3)

    def day_end(self, after: int | None = None) -> int:
        """The last second (UTC) of the day of ``after`` (default: a few seconds from now).
        A loan originated then with the first due date one period later falls due at
        exactly ``start + period``: due dates are the last second of their date."""
        t = self.now() + 10 if after is None else after
        return cal.day_end(cal.local_day(t, 0), 0)

    def at(self, timestamp: int | None) -> None:
        """The next transaction is mined at ``timestamp`` (None: whatever comes next)."""
        if timestamp is not None:
            set_next_timestamp(self.w3, timestamp)

    def mine_at(self, timestamp: int) -> None:
        mine(self.w3, timestamp)

    def rpc(self, method: str, params: list[Any]) -> Any:
        return self.w3.manager.request_blocking(RPCEndpoint(method), params)

    # -- transactions --------------------------------------------------------------
    def send(
        self, fn: Any, sender: ChecksumAddress | None = None, at: int | None = None
    ) -> TxReceipt:
        """Send ``fn`` (at ``timestamp`` if given) and return the receipt."""
        self.at(at)
        gas = None if at is None else TIMED_GAS
        return send(self.w3, fn, sender or self.admin, self.decoder, gas=gas)

    def deploy_contract(self, name: str, *args: Any, sender: int = 0) -> Contract:
        """Deploy contract ``name`` from dev account ``sender``."""
        deployer = TransactionSender(self.w3, dev_signer(sender), self.decoder)
        return deploy_contract(deployer, self.artifacts[name], *args, artifacts=self.artifacts)

    def reverts(
        self, name: str, fn: Any, sender: ChecksumAddress | None = None, at: int | None = None
    ) -> TransactionReverted:
        """Assert that sending ``fn`` reverts with the Solidity error ``name``; nothing changes."""
        with pytest.raises(TransactionReverted) as info:
            self.send(fn, sender, at=self.now() + 1 if at is None else at)
        assert info.value.error_name == name, str(info.value)
        return info.value

    def fund(self, account: ChecksumAddress, amount: int, token: Contract | None = None) -> None:
        """Mint ``amount`` of ``token`` (default: the 6-decimal one) to ``account``, which
        approves the ledger for everything. Both blocks are mined at the chain's current time:
        funding never moves the clock (an auto-mined block takes the wall clock, which may be
        ahead of a chain whose time a test reverted, and then a timed origination planned from
        the chain's time would lie in its past)."""
        token = token or self.token
        self.send(token.functions.mint(account, amount), at=self.now())
        self.send(token.functions.approve(self.ledger.address, 2**256 - 1), account, at=self.now())

    def originate(
        self,
        borrower: ChecksumAddress,
        principal: int = 12_000 * UNIT,
        apr_bps: int = 1200,
        installments: int = 12,
        period: int = 30 * DAY,
        first_due: int | None = None,
        kind: ScheduleKind = ScheduleKind.ANNUITY,
        grace: int = 5 * DAY,
        late_fee_bps: int = 500,
        penalty_apr_bps: int = 600,
        default_after_days: int = 90,
        token: Contract | None = None,
        lender: ChecksumAddress | None = None,
        at: int | None = None,
        signature: bytes | None = None,
        deadline: int | None = None,
        **calendar: int,
    ) -> int:
        """Fund the lender, originate at ``at`` (default: the next second) with the borrower's
        signature (a dev account's, unless ``signature`` is given), return the id."""
        token = token or self.token
        lender = lender or self.admin
        self.fund(lender, principal, token)
        start = at if at is not None else self.now() + 1
        terms = self.terms(
            borrower,
            principal,
            apr_bps,
            installments,
            period,
            first_due if first_due is not None else start + period,
            kind,
            grace,
            late_fee_bps,
            penalty_apr_bps,
            default_after_days,
            token,
            **calendar,
        )
        deadline = start + DAY if deadline is None else deadline
        if signature is None:
            signature = self.sign_terms(terms, lender, deadline)
        receipt = self.send(
            self.ledger.functions.originate(terms, deadline, signature), lender, at=start
        )
        (event,) = self.events(receipt, "LoanOriginated")
        return int(event["loanId"])

    def originate_call(
        self,
        terms: tuple[Any, ...],
        lender: ChecksumAddress | None = None,
        deadline: int = 0,
        ledger: Contract | None = None,
    ) -> Any:
        """``originate(terms, ...)`` on ``ledger`` (default: the system's) signed by the
        borrower when it is a dev account (else with an empty signature), for tests that send
        it themselves."""
        lender = lender or self.admin
        ledger = ledger or self.ledger
        deadline = deadline or self.now() + DAY
        borrower = Web3.to_checksum_address(terms[0])
        signature = (
            self.sign_terms(terms, lender, deadline, ledger=ledger)
            if borrower in self.accounts
            else b""
        )
        return ledger.functions.originate(terms, deadline, signature)

    def typed_terms(
        self,
        terms: tuple[Any, ...],
        lender: ChecksumAddress,
        deadline: int,
        nonce: int | None = None,
        ledger: Contract | None = None,
    ) -> dict[str, Any]:
        """The EIP-712 message the borrower named in ``terms`` signs for ``lender``."""
        ledger = ledger or self.ledger
        borrower = Web3.to_checksum_address(terms[0])
        if nonce is None:
            nonce = int(ledger.functions.nonces(borrower).call())
        return origination_typed_data(
            ledger.address, self.w3.eth.chain_id, terms, lender, nonce, deadline
        )

    def sign_terms(
        self,
        terms: tuple[Any, ...],
        lender: ChecksumAddress,
        deadline: int,
        signer: ChecksumAddress | None = None,
        nonce: int | None = None,
        ledger: Contract | None = None,
    ) -> bytes:
        """The signature of dev account ``signer`` (default: the borrower) over ``terms``."""
        typed = self.typed_terms(terms, lender, deadline, nonce, ledger)
        borrower = Web3.to_checksum_address(terms[0])
        local = dev_signer(self.accounts.index(signer or borrower)).local_account()
        if signer is None:
            return sign_terms(local, typed)
        # Another account's signature over the borrower's terms (a forgery, for tests).
        return bytes(local.sign_message(encode_typed_data(full_message=typed)).signature)

    def terms(
        self,
        borrower: ChecksumAddress,
        principal: int,
        apr_bps: int,
        installments: int,
        period: int,
        first_due: int,
        kind: ScheduleKind,
        grace: int,
        late_fee_bps: int,
        penalty_apr_bps: int,
        default_after_days: int,
        token: Contract | None = None,
        months: int = 0,
        day_count: int = 0,
        utc_offset: int = 0,
        interest_only: int = 0,
        rounding_exp: int = 0,
    ) -> tuple[Any, ...]:
        """The ledger's OriginationTerms tuple (calendar terms: months per period, day count,
        UTC offset in minutes, interest-only installments, rounding exponent)."""
        token = token or self.token
        return (
            borrower,
            token.address,
            principal,
            apr_bps,
            installments,
            period,
            first_due,
            int(kind),
            grace,
            late_fee_bps,
            penalty_apr_bps,
            default_after_days,
            months,
            day_count,
            utc_offset,
            interest_only,
            rounding_exp,
        )

    def repay(
        self,
        loan_id: int,
        amount: int,
        payer: ChecksumAddress,
        at: int | None = None,
        fund: bool = True,
        token: Contract | None = None,
    ) -> dict[str, Any]:
        """Repay (funding ``payer`` first) and return the RepaymentApplied event's args plus
        ``gas_used`` and ``receipt``."""
        if fund:
            self.fund(payer, amount, token)
        receipt = self.send(self.ledger.functions.repay(loan_id, amount), payer, at=at)
        (event,) = self.events(receipt, "RepaymentApplied")
        return {**event, "gas_used": receipt["gasUsed"], "receipt": receipt}

    def events(
        self, receipt: TxReceipt, name: str, contract: Contract | None = None
    ) -> list[dict[str, Any]]:
        """The args of every ``name`` event of ``contract`` (default: the ledger) in
        ``receipt``."""
        contract = contract or self.ledger
        logs = getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
        return [dict(log["args"]) for log in logs]

    # -- views ---------------------------------------------------------------------
    def view(self, fn: str, *args: Any) -> Any:
        """The raw result of the ledger's view ``fn``."""
        return getattr(self.ledger.functions, fn)(*args).call()

    def loan(self, loan_id: int) -> dict[str, Any]:
        return _named(self.view("loan", loan_id), output_fields(self.ledger.abi, "loan"))

    def due(self, loan_id: int, timestamp: int) -> dict[str, Any]:
        raw = call(self.ledger.functions.amountDue(loan_id, timestamp), self.decoder)
        return _named(raw, output_fields(self.ledger.abi, "amountDue"))

    def installment(self, loan_id: int, number: int) -> tuple[int, int, int]:
        """(due date, principal, interest) of installment ``number``."""
        due, principal, interest = self.view("installment", loan_id, number)
        return int(due), int(principal), int(interest)

    def installment_total(self, loan_id: int, number: int) -> int:
        _, principal, interest = self.installment(loan_id, number)
        return principal + interest

    def due_date(self, loan_id: int, number: int) -> int:
        return self.installment(loan_id, number)[0]

    def record(self, borrower: ChecksumAddress) -> dict[str, Any]:
        raw = self.registry.functions.creditRecord(borrower).call()
        return _named(raw, output_fields(self.registry.abi, "creditRecord"))

    def balance(self, account: ChecksumAddress, token: Contract | None = None) -> int:
        return int((token or self.token).functions.balanceOf(account).call())


def _named(raw: Any, fields: list[str]) -> dict[str, Any]:
    return dict(zip(fields, raw, strict=True))


@contextmanager
def private_deployment(artifacts: dict[str, ContractArtifact]) -> Iterator[LedgerDriver]:
    """The system on a private Anvil, stopped afterwards: for tests that rewrite history
    (``anvil_reorg``), which the snapshots isolating tests on the shared chain do not
    survive reliably."""
    with AnvilNode() as node:
        w3 = Web3(HTTPProvider(node.rpc_url))
        yield LedgerDriver.deploy(w3, artifacts, node.rpc_url)


@pytest.fixture(scope="session")
def deployed_system(
    w3: Web3, anvil: AnvilNode, artifacts: dict[str, ContractArtifact]
) -> LedgerDriver:
    return LedgerDriver.deploy(w3, artifacts, anvil.rpc_url)


@pytest.fixture
def system(deployed_system: LedgerDriver) -> LedgerDriver:
    """The session's deployment (every test's changes reverted after it)."""
    return deployed_system


@pytest.fixture
def borrower(system: LedgerDriver) -> ChecksumAddress:
    return system.accounts[1]


@pytest.fixture
def originate(system: LedgerDriver, borrower: ChecksumAddress) -> Callable[..., int]:
    def _originate(**kwargs: Any) -> int:
        kwargs.setdefault("borrower", borrower)
        return system.originate(**kwargs)

    return _originate
