"""Submission throughput: naive web3 sends against the bulk path and Anvil's own ceiling.

Run: ``.venv/bin/python benchmarks/submit.py [--n 1000] [--borrowers 20] [--batch-size 250]
[--repeat 3]``.
One Anvil (automine, as started by ``AnvilNode``) serves all three measurements; each starts
from the same snapshot (taken after deployment and funding), so each does the same work:
originate ``n`` loans from the lender to ``borrowers`` borrowers, wait until they are mined,
then one repayment per loan by its borrower — ``2 n`` transactions.

- naive: ``fn.transact({"from": ...})`` (the node signs; web3 estimates gas) and
  ``wait_for_transaction_receipt`` for every transaction;
- bulk: :class:`loanservicing.chain.bulk.BulkSender` (lender) and ``BulkSenders`` (borrowers): build
  the calls, estimate gas once per kind, sign locally, send in JSON-RPC batches, collect and
  check every receipt. Everything from building the first call to the last checked receipt is
  timed;
- ceiling: the same ``2 n`` transactions signed in advance (not timed); only sending them in
  batches and polling raw receipts until all are mined is timed.

Bulk and ceiling run ``--repeat`` times (3), alternating, and the best of each counts: the
machine's other processes make single runs vary by a factor of two. Naive runs once.

Prints a table, then as the last line one JSON object:
``{"n", "naive_tps", "bulk_tps", "ratio", "ceiling_tps", "ceiling_share"}``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from web3 import HTTPProvider, Web3

import click
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from rich.console import Console
from rich.table import Table
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from loanservicing.chain.accounts import Signer, TransactionSender, dev_signer
from loanservicing.chain.bulk import BulkSender, BulkSenders, current_fees, estimate_gas
from loanservicing.chain.errors import ReceiptTimeout
from loanservicing.chain.node import RPC_TIMEOUT_S, AnvilNode, revert, snapshot
from loanservicing.chain.receipts import STALL_NUDGE_S, nudge_stalled_pool
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.rpc import RpcClient
from loanservicing.chain.signing import SignedTx
from loanservicing.deployment.bindings import bind, revert_decoder
from loanservicing.deployment.compile import compile_contracts
from loanservicing.deployment.deploy import deploy_system
from loanservicing.errors import LoanServicingError
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.borrower_signature import TermsSigner

UNIT = 10**6
PRINCIPAL = 12_000 * UNIT
REPAYMENT = 1_000 * UNIT

logger = logging.getLogger("benchmarks.submit")


@dataclass(frozen=True)
class Bench:
    w3: Web3
    ledger: Contract
    token: Contract
    decoder: RevertDecoder
    lender: LocalAccount
    borrowers: list[LocalAccount]
    first_due: int

    def terms(self, i: int) -> tuple[Any, ...]:
        borrower = self.borrowers[i % len(self.borrowers)].address
        kind = i % 3  # annuity, equal principal, bullet
        return (borrower, self.token.address, PRINCIPAL, 1200, 12, 30 * DAY, self.first_due,
                kind, 5 * DAY, 500, 600, 90)  # fmt: skip

    def originations(self, n: int) -> list[ContractFunction]:
        """The lender's ``originate`` calls for loans ``0 .. n-1``, each signed by its borrower
        (EIP-712) with its next nonces from the ledger's now: the borrowers sign before the
        lender submits, so no run times the signing; send them in this order."""
        signer = TermsSigner(self.ledger)
        lender = self.lender.address
        # Each signature is good until the loan's first due date (it cannot be used after).
        return [
            signer.originate(
                self.borrowers[i % len(self.borrowers)], self.terms(i), lender, self.first_due
            )
            for i in range(n)
        ]

    def repay(self, first_id: int, i: int) -> tuple[ChecksumAddress, ContractFunction]:
        payer = self.borrowers[i % len(self.borrowers)].address
        return payer, self.ledger.functions.repay(first_id + i, REPAYMENT)

    def next_loan_id(self) -> int:
        return int(self.ledger.functions.loanCount().call()) + 1

    def outcome(self, first_id: int, n: int) -> tuple[int, int, list[int]]:
        """What the run left behind: loan count, lender balance, borrower balances."""
        return (
            int(self.ledger.functions.loanCount().call()) - first_id + 1,
            int(self.token.functions.balanceOf(self.lender.address).call()),
            [int(self.token.functions.balanceOf(b.address).call()) for b in self.borrowers],
        )


@dataclass(frozen=True)
class Result:
    name: str
    seconds: float
    transactions: int

    @property
    def tps(self) -> float:
        return self.transactions / self.seconds


def dev_keys(count: int) -> list[LocalAccount]:
    return [dev_signer(i).local_account() for i in range(count)]


def setup(w3: Web3, n: int, keys: list[LocalAccount]) -> Bench:
    """Deploy, fund the lender for ``n`` loans and let every borrower approve the ledger."""
    artifacts = compile_contracts()
    lender, borrowers = keys[0], keys[1:]
    sender = TransactionSender(w3, Signer(lender, "the lender"), revert_decoder(artifacts))
    system = bind(w3, deploy_system(sender, artifacts), artifacts)
    token, ledger = system.token, system.ledger
    decoder = revert_decoder(artifacts)
    unlimited = 2**256 - 1
    sender = BulkSender(w3, lender, decoder)
    sender.send_all(
        [
            (token.functions.mint(lender.address, n * PRINCIPAL), 100_000),
            (token.functions.approve(ledger.address, unlimited), 100_000),
        ]
    )
    BulkSenders(w3, borrowers, decoder).send_all(
        (b.address, token.functions.approve(ledger.address, unlimited), 100_000) for b in borrowers
    )
    first_due = int(w3.eth.get_block("latest")["timestamp"]) + 30 * DAY
    return Bench(w3, ledger, token, decoder, lender, borrowers, first_due)


def run_naive(bench: Bench, n: int) -> Result:
    w3 = bench.w3
    first_id = bench.next_loan_id()
    calls = bench.originations(n)
    start = time.perf_counter()
    for fn in calls:
        tx_hash = fn.transact({"from": bench.lender.address})
        _mined(w3.eth.wait_for_transaction_receipt(tx_hash))
    for i in range(n):
        payer, fn = bench.repay(first_id, i)
        _mined(w3.eth.wait_for_transaction_receipt(fn.transact({"from": payer})))
    return Result("naive: transact + wait", time.perf_counter() - start, 2 * n)


def _mined(receipt: Any) -> None:
    if receipt["status"] != 1:
        raise LoanServicingError(f"Transaction {receipt['transactionHash'].hex()} reverted.")


def run_bulk(bench: Bench, n: int, batch_size: int) -> Result:
    w3, lender = bench.w3, bench.lender
    first_id = bench.next_loan_id()
    calls = bench.originations(n)
    start = time.perf_counter()
    originations = BulkSender(w3, lender, bench.decoder, batch_size=batch_size)
    gas = estimate_gas(calls[0], lender.address)  # a borrower's first loan: the most gas
    originations.send_all((fn, gas) for fn in calls)
    payers = BulkSenders(w3, bench.borrowers, bench.decoder, batch_size=batch_size)
    # One estimate per kind of schedule: the same amount is an installment's part for an
    # annuity and a prepayment (the ledger's general path) for a bullet loan.
    gas = max(estimate_gas(fn, payer) for payer, fn in (bench.repay(first_id, i) for i in range(3)))
    payers.send_all((*bench.repay(first_id, i), gas) for i in range(n))
    return Result("bulk: BulkSender / BulkSenders", time.perf_counter() - start, 2 * n)


def run_ceiling(bench: Bench, n: int, batch_size: int) -> Result:
    """Anvil's ceiling: send pre-signed transactions in batches and poll raw receipts."""
    w3, lender = bench.w3, bench.lender
    first_id = bench.next_loan_id()
    originations = BulkSender(w3, lender, bench.decoder)
    payers = BulkSenders(w3, bench.borrowers, bench.decoder)
    calls = bench.originations(n)
    gas_originate = estimate_gas(calls[0], lender.address)
    fees = current_fees(w3)
    signed_originations = originations.sign([(fn, gas_originate) for fn in calls], fees)
    # Repay gas as measured by the bulk run's estimate would need the loans; use a fixed cap.
    signed_repayments = [
        signed
        for _, signed in payers.sign([(*bench.repay(first_id, i), 400_000) for i in range(n)], fees)
    ]
    rpc = RpcClient.for_web3(w3)
    start = time.perf_counter()
    for batch in (signed_originations, signed_repayments):
        _send_and_wait(rpc, batch, batch_size)
    return Result("ceiling: pre-signed, batches", time.perf_counter() - start, 2 * n)


def _send_and_wait(rpc: RpcClient, signed: Sequence[SignedTx], batch_size: int) -> None:
    for start in range(0, len(signed), batch_size):
        chunk = signed[start : start + batch_size]
        replies = rpc.responses([("eth_sendRawTransaction", ["0x" + tx.raw.hex()]) for tx in chunk])
        errors = [r["error"] for r in replies if "error" in r]
        if errors:
            raise LoanServicingError(f"The node rejected a pre-signed transaction: {errors[0]}.")
    pending = ["0x" + tx.hash.hex() for tx in signed]
    deadline = time.monotonic() + 120
    stalled_since = time.monotonic()
    pool_before: list[int] = []
    while pending:
        if len(pending) > 1:  # probe the last one first, as receipts.collect_receipts does
            (probe,) = rpc.responses([("eth_getTransactionReceipt", [pending[-1]])])
            if probe.get("result") is None:
                if time.monotonic() - stalled_since > STALL_NUDGE_S:  # as receipts.py does
                    nudge_stalled_pool(rpc, pool_before)
                    stalled_since = time.monotonic()
                time.sleep(0.02)
                continue
        still = []
        for start in range(0, len(pending), batch_size):
            polled = pending[start : start + batch_size]
            replies = rpc.responses([("eth_getTransactionReceipt", [h]) for h in polled])
            for tx_hash, reply in zip(polled, replies, strict=True):
                receipt = reply.get("result")
                if receipt is None:
                    still.append(tx_hash)
                elif receipt["status"] != "0x1":
                    raise LoanServicingError(f"Pre-signed transaction {tx_hash} reverted.")
        if len(still) < len(pending):
            stalled_since = time.monotonic()
        elif time.monotonic() - stalled_since > STALL_NUDGE_S:
            nudge_stalled_pool(rpc, pool_before)
            stalled_since = time.monotonic()
        pending = still
        if pending:
            if time.monotonic() > deadline:
                raise ReceiptTimeout(f"{len(pending)} pre-signed transactions were not mined.")
            time.sleep(0.02)


def measure(
    w3: Web3, bench: Bench, n: int, run: Callable[[], Result]
) -> tuple[Result, tuple[int, int, list[int]]]:
    """Run one measurement from the shared snapshot and return to it afterwards."""
    snapshot_id = snapshot(w3)
    first_id = bench.next_loan_id()
    result = run()
    outcome = bench.outcome(first_id, n)
    revert(w3, snapshot_id)
    return result, outcome


@click.command()
@click.option("--n", "n", default=1000, show_default=True, help="Loans (2n transactions).")
@click.option("--borrowers", default=20, show_default=True, help="Distinct borrowers.")
@click.option("--batch-size", default=250, show_default=True, help="JSON-RPC batch size.")
@click.option(
    "--repeat", default=3, show_default=True, help="Bulk and ceiling runs (the best counts)."
)
def main(n: int, borrowers: int, batch_size: int, repeat: int) -> None:
    """Originate and repay N loans naively, through the bulk path, and pre-signed."""
    console = Console(stderr=False)
    keys = dev_keys(borrowers + 1)
    with AnvilNode(accounts=borrowers + 1) as node:
        w3 = Web3(HTTPProvider(node.rpc_url, request_kwargs={"timeout": RPC_TIMEOUT_S}))
        bench = setup(w3, n, keys)
        with console.status(f"naive: {2 * n} transactions, one at a time"):
            naive, naive_out = measure(w3, bench, n, lambda: run_naive(bench, n))
        outcomes = [naive_out]
        bulk_runs: list[Result] = []
        ceiling_runs: list[Result] = []
        for round_ in range(1, repeat + 1):  # alternate, so load changes hit both alike
            with console.status(f"bulk {round_}/{repeat}: {2 * n} transactions"):
                result, outcome = measure(w3, bench, n, lambda: run_bulk(bench, n, batch_size))
            bulk_runs.append(result)
            outcomes.append(outcome)
            with console.status(f"ceiling {round_}/{repeat}: {2 * n} pre-signed transactions"):
                result, outcome = measure(w3, bench, n, lambda: run_ceiling(bench, n, batch_size))
            ceiling_runs.append(result)
            outcomes.append(outcome)
    if any(outcome != naive_out for outcome in outcomes):
        raise click.ClickException(
            "The runs left different states behind (loan count or token balances)."
        )
    bulk = max(bulk_runs, key=lambda r: r.tps)
    ceiling = max(ceiling_runs, key=lambda r: r.tps)
    logger.info("bulk runs: %s", [round(r.tps) for r in bulk_runs])
    logger.info("ceiling runs: %s", [round(r.tps) for r in ceiling_runs])
    table = Table(
        title=f"Originate + repay {n} loans ({2 * n} transactions, {borrowers} borrowers)"
    )
    table.add_column("path")
    table.add_column("seconds", justify="right")
    table.add_column("tx/s", justify="right")
    table.add_column("vs naive", justify="right")
    table.add_column("all runs, tx/s", justify="right")
    for result, runs in ((naive, [naive]), (bulk, bulk_runs), (ceiling, ceiling_runs)):
        table.add_row(
            result.name,
            f"{result.seconds:.2f}",
            f"{result.tps:,.0f}",
            f"{result.tps / naive.tps:.1f}x",
            ", ".join(f"{r.tps:,.0f}" for r in runs),
        )
    console.print(table)
    console.print(
        f"Best of {repeat} for bulk and ceiling (other processes share the CPUs). Bulk reaches "
        f"{bulk.tps / ceiling.tps:.0%} of Anvil's ceiling; every run left the same "
        f"{naive_out[0]} loans and token balances."
    )
    summary = {
        "n": n,
        "naive_tps": round(naive.tps, 1),
        "bulk_tps": round(bulk.tps, 1),
        "ratio": round(bulk.tps / naive.tps, 2),
        "ceiling_tps": round(ceiling.tps, 1),
        "ceiling_share": round(bulk.tps / ceiling.tps, 3),
    }
    click.echo(json.dumps(summary))


if __name__ == "__main__":
    main()
