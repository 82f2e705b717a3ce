"""What every part of one demo run shares: the chain and its clock, the servicer and the two
lenders, the borrowers and their loans, the counts of what happened; and waiting for the
transactions a part sent (counted). The parts (origination, repayments, the servicer's week,
the held repayments) are mixed into :class:`~loanservicing.demo.portfolio.PortfolioDemo`."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections import Counter
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import RPCEndpoint

from loanservicing.chain.accounts import TransactionSender
from loanservicing.demo.profiles import Borrower, DemoLoan
from loanservicing.demo.records import DemoConfig, Reporter
from loanservicing.servicing.servicer import Servicer

__all__ = ["MAX_UINT", "SMALL_GAS", "DemoRun", "request"]

MAX_UINT = 2**256 - 1
SMALL_GAS = 120_000
"""Gas for a mint, an approval, a role grant or a blocklist change."""


class DemoRun(ABC):
    """The state of one demo run; :class:`~loanservicing.demo.portfolio.PortfolioDemo` sets
    it up."""

    w3: Web3
    config: DemoConfig
    rng: random.Random
    reporter: Reporter
    start: int
    """The chain time of day 0 (a UTC midnight)."""
    servicer: Servicer
    lender: TransactionSender
    """The deployer: the first lender, the servicer and the token's issuer."""
    fund: TransactionSender
    """The second lender."""
    treasury: ChecksumAddress
    """Where the fund claims the repayments the ledger held for it."""
    issuer: Contract
    """The token, as its issuer (who keeps its blocklist) calls it."""
    borrowers: list[Borrower]
    loans: list[DemoLoan]
    counts: Counter[str]
    transactions: int
    block_day: int
    """The day the token's issuer blocks the fund."""
    held: dict[str, Any]

    @abstractmethod
    def _plan(self, loan: DemoLoan, day: int) -> None:
        """Choose the day of the loan's next payment."""

    def _wait_all(self, submitted: list[tuple[TransactionSender, HexBytes]]) -> list[Any]:
        """Wait for the transactions, in the order sent; their receipts."""
        receipts = [sender.wait(tx_hash) for sender, tx_hash in submitted]
        self.transactions += len(receipts)
        return receipts


def request(w3: Web3, method: str, params: list[Any]) -> Any:
    """A JSON-RPC request the node's dev namespace answers (``anvil_*``, ``hardhat_*``)."""
    return w3.manager.request_blocking(RPCEndpoint(method), params)
