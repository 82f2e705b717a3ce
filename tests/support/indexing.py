"""Shared helpers for the indexer and monitor tests: a deployed system, a driver, an indexer
factory.

(Named test_* to sit among the indexer's test files; it holds no tests itself.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.types import RPCEndpoint, TxReceipt

from loanservicing.chain.node import AnvilNode, chain_time, set_next_timestamp
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.transactions import send
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_contracts, revert_decoder
from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.indexer import Indexer, IndexerConfig
from loanservicing.ledger.schedule import ScheduleKind

DAY = 86_400
UNIT = 10**6


@dataclass
class Deployed:
    w3: Web3
    rpc_url: str
    ledger: Contract
    registry: Contract
    token: Contract
    decoder: RevertDecoder
    admin: ChecksumAddress
    accounts: list[ChecksumAddress]
    block: int

    def abis(self) -> dict[str, Any]:
        return {"ledger": self.ledger.abi, "credit_registry": self.registry.abi}

    def now(self) -> int:
        return chain_time(self.w3)

    def send(
        self, fn: Any, sender: ChecksumAddress | None = None, at: int | None = None
    ) -> TxReceipt:
        if at is not None:
            set_next_timestamp(self.w3, at)
        gas = None if at is None else 3_000_000
        return send(self.w3, fn, sender or self.admin, self.decoder, gas=gas)

    def fund(self, account: ChecksumAddress, amount: int) -> None:
        self.send(self.token.functions.mint(account, amount))
        self.send(self.token.functions.approve(self.ledger.address, 2**256 - 1), account)

    def originate(
        self,
        borrower: ChecksumAddress,
        principal: int = 12_000 * UNIT,
        apr_bps: int = 1200,
        installments: int = 12,
        period: int = 30 * DAY,
        kind: ScheduleKind = ScheduleKind.ANNUITY,
        grace: int = 5 * DAY,
        late_fee_bps: int = 500,
        penalty_apr_bps: int = 600,
        default_after_days: int = 90,
        at: int | None = None,
    ) -> int:
        self.fund(self.admin, principal)
        start = at if at is not None else self.now() + 1
        terms = (
            borrower,
            self.token.address,
            principal,
            apr_bps,
            installments,
            period,
            start + period,
            int(kind),
            grace,
            late_fee_bps,
            penalty_apr_bps,
            default_after_days,
        )
        self.send(self.ledger.functions.originate(terms), at=start)
        return int(self.ledger.functions.loanCount().call())

    def repay(
        self, loan_id: int, amount: int, payer: ChecksumAddress, at: int | None = None
    ) -> TxReceipt:
        self.fund(payer, amount)
        return self.send(self.ledger.functions.repay(loan_id, amount), payer, at=at)

    def view(self, fn: str, *args: Any) -> Any:
        return getattr(self.ledger.functions, fn)(*args).call()

    def installment_total(self, loan_id: int, number: int) -> int:
        _, principal, interest = self.view("installment", loan_id, number)
        return int(principal) + int(interest)

    def due_date(self, loan_id: int, number: int) -> int:
        return int(self.view("installment", loan_id, number)[0])

    def loan_view(self, loan_id: int) -> dict[str, Any]:
        item = next(
            i for i in self.ledger.abi if i.get("type") == "function" and i["name"] == "loan"
        )
        names = [c["name"] for c in item["outputs"][0]["components"]]
        return dict(zip(names, self.ledger.functions.loan(loan_id).call(), strict=True))

    def rpc(self, method: str, params: list[Any]) -> Any:
        return self.w3.manager.request_blocking(RPCEndpoint(method), params)


def deploy_system(w3: Web3, rpc_url: str, artifacts: dict[str, ContractArtifact]) -> Deployed:
    accounts = list(w3.eth.accounts)
    deployed = deploy_contracts(w3, artifacts, accounts[0], with_token=True, token_decimals=6)
    assert deployed.token is not None
    return Deployed(
        w3,
        rpc_url,
        deployed.ledger,
        deployed.credit_registry,
        deployed.token,
        revert_decoder(artifacts),
        accounts[0],
        accounts,
        deployed.block,
    )


@contextmanager
def private_deployment(artifacts: dict[str, ContractArtifact]) -> Iterator[Deployed]:
    """The system on a private Anvil, stopped afterwards: for tests that rewrite history
    (``anvil_reorg``), which the snapshots isolating tests on the shared chain do not
    survive reliably."""
    with AnvilNode() as node:
        w3 = Web3(HTTPProvider(node.rpc_url))
        yield deploy_system(w3, node.rpc_url, artifacts)


def make_indexer(system: Deployed, db_path: Path | str, **options: Any) -> Indexer:
    options.setdefault("from_block", system.block)
    config = IndexerConfig(
        rpc_url=system.rpc_url,
        ledger=system.ledger.address,
        registry=system.registry.address,
        **options,
    )
    return Indexer(config, IndexDB(db_path), abis=system.abis())
