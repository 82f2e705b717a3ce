"""Fixtures for on-chain behaviour: the deployed system and a small driver around it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.node import chain_time, mine, set_next_timestamp
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.transactions import call, send
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_contract, deploy_contracts, revert_decoder
from loanservicing.ledger.schedule import ScheduleKind

DAY = 86_400
UNIT = 10**6  # one token of the 6-decimal stablecoin


class System:
    """The deployed contracts plus helpers that drive them at exact timestamps."""

    def __init__(
        self,
        w3: Web3,
        ledger: Contract,
        registry: Contract,
        token: Contract,
        token18: Contract,
        decoder: RevertDecoder,
        admin: ChecksumAddress,
        accounts: list[ChecksumAddress],
        artifacts: dict[str, ContractArtifact],
    ) -> None:
        self.w3, self.ledger, self.registry = w3, ledger, registry
        self.token, self.token18, self.decoder = token, token18, decoder
        self.admin, self.accounts, self.artifacts = admin, accounts, artifacts

    def __repr__(self) -> str:
        return f"System(ledger={self.ledger.address})"

    # -- time --------------------------------------------------------------------
    def now(self) -> int:
        return chain_time(self.w3)

    def at(self, timestamp: int | None) -> None:
        """The next transaction is mined at ``timestamp`` (None: whatever comes next)."""
        if timestamp is not None:
            set_next_timestamp(self.w3, timestamp)

    def mine_at(self, timestamp: int) -> None:
        mine(self.w3, timestamp)

    # -- transactions --------------------------------------------------------------
    def send(
        self, fn: Any, sender: ChecksumAddress | None = None, at: int | None = None
    ) -> TxReceipt:
        # A timed transaction skips gas estimation (which would run at another timestamp).
        self.at(at)
        gas = None if at is None else 3_000_000
        return send(self.w3, fn, sender or self.admin, self.decoder, gas=gas)

    def reverts(
        self, name: str, fn: Any, sender: ChecksumAddress | None = None, at: int | None = None
    ) -> TransactionReverted:
        """Assert that sending ``fn`` reverts with the Solidity error ``name``; nothing changes."""
        with pytest.raises(TransactionReverted) as info:
            self.send(fn, sender, at=self.now() + 1 if at is None else at)
        assert info.value.error_name == name, str(info.value)
        return info.value

    def fund(self, account: ChecksumAddress, amount: int, token: Contract | None = None) -> None:
        token = token or self.token
        self.send(token.functions.mint(account, amount))
        self.send(token.functions.approve(self.ledger.address, 2**256 - 1), account)

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
    ) -> int:
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
        )
        receipt = self.send(self.ledger.functions.originate(terms), lender, at=start)
        (event,) = self.ledger.events.LoanOriginated().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["loanId"])

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
    ) -> tuple[Any, ...]:
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
        """Repay and return the RepaymentApplied event's args plus ``gas_used``."""
        if fund:
            self.fund(payer, amount, token)
        receipt = self.send(self.ledger.functions.repay(loan_id, amount), payer, at=at)
        (event,) = self.ledger.events.RepaymentApplied().process_receipt(receipt, errors=DISCARD)
        return {**event["args"], "gas_used": receipt["gasUsed"], "receipt": receipt}

    def events(
        self, receipt: TxReceipt, name: str, contract: Contract | None = None
    ) -> list[dict[str, Any]]:
        contract = contract or self.ledger
        logs = getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
        return [dict(log["args"]) for log in logs]

    # -- views ---------------------------------------------------------------------
    def loan(self, loan_id: int) -> dict[str, Any]:
        return _as_dict(self.ledger.functions.loan(loan_id).call(), self._outputs("loan"))

    def due(self, loan_id: int, timestamp: int) -> dict[str, Any]:
        raw = call(self.ledger.functions.amountDue(loan_id, timestamp), self.decoder)
        return _as_dict(raw, self._outputs("amountDue"))

    def installment(self, loan_id: int, number: int) -> tuple[int, int, int]:
        due, principal, interest = self.ledger.functions.installment(loan_id, number).call()
        return int(due), int(principal), int(interest)

    def record(self, borrower: ChecksumAddress) -> dict[str, Any]:
        raw = self.registry.functions.creditRecord(borrower).call()
        fields = [
            c["name"] for c in _fn_abi(self.registry, "creditRecord")["outputs"][0]["components"]
        ]
        return dict(zip(fields, raw, strict=True))

    def balance(self, account: ChecksumAddress, token: Contract | None = None) -> int:
        return int((token or self.token).functions.balanceOf(account).call())

    def _outputs(self, fn: str) -> list[str]:
        return [c["name"] for c in _fn_abi(self.ledger, fn)["outputs"][0]["components"]]


def _fn_abi(contract: Contract, name: str) -> dict[str, Any]:
    return next(i for i in contract.abi if i.get("type") == "function" and i["name"] == name)


def _as_dict(raw: Any, fields: list[str]) -> dict[str, Any]:
    return dict(zip(fields, raw, strict=True))


@pytest.fixture(scope="session")
def system(w3: Web3, artifacts: dict[str, ContractArtifact]) -> System:
    accounts = list(w3.eth.accounts)
    admin = accounts[0]
    deployed = deploy_contracts(w3, artifacts, admin, with_token=True, token_decimals=6)
    decoder = revert_decoder(artifacts)
    token18 = deploy_contract(
        w3, artifacts["TestStablecoin"], admin, decoder, "Test DAI", "tDAI", 18, admin
    )
    assert deployed.token is not None
    return System(
        w3,
        deployed.ledger,
        deployed.credit_registry,
        deployed.token,
        token18,
        decoder,
        admin,
        accounts,
        artifacts,
    )


@pytest.fixture
def borrower(system: System) -> ChecksumAddress:
    return system.accounts[1]


@pytest.fixture
def originate(system: System, borrower: ChecksumAddress) -> Callable[..., int]:
    def _originate(**kwargs: Any) -> int:
        kwargs.setdefault("borrower", borrower)
        return system.originate(**kwargs)

    return _originate
