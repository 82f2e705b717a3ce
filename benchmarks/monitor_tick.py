"""A monitor tick over 10,000 loans from the event index versus a loop over the ledger's views.

Run: ``.venv/bin/python benchmarks/monitor_tick.py [--loans 10000] [--sample 1000]``.

Data: on a fresh local Anvil (automine), the lender originates ``--loans`` loans through the
bulk path (:class:`loanservicing.chain.bulk.BulkSender`: local signing, JSON-RPC batches) to 20
borrowers, with the three schedule kinds, 6 to 24 installments, 14- or 30-day periods, first
due dates spread over a month. Then the clock moves 40 days and the borrowers repay through
``BulkSenders``: 55 % of the loans pay their first installments in full (or more), 20 % pay
part, 25 % nothing; 25 more days pass. That gives current, late and 31-60-day loans, with
charges. The event index is built with the indexer (timed too).

Measured, at the same chain time:

- monitor: one daily tick as ``monitor run`` does it — sync the index (nothing new), evaluate
  every loan from SQLite, raise and store that day's notices (after a first tick that raised
  the backlog: all payments and delinquencies so far, also reported);
- naive: for each loan ``loan(id)``, ``amountDue(id, now)`` and ``daysPastDue(id)`` through
  web3 calls — timed on ``--sample`` loans spread over the book and scaled to all of them
  (said so in the output).

Prints a table, then as the last line one JSON object with the figures and ``ratio``
(naive seconds for all loans / monitor tick seconds).
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from web3 import HTTPProvider, Web3

import click
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from loanservicing.chain.accounts import Signer, TransactionSender, dev_signer
from loanservicing.chain.bulk import BulkSender, BulkSenders
from loanservicing.chain.node import RPC_TIMEOUT_S, AnvilNode, mine
from loanservicing.deployment.bindings import bind, revert_decoder
from loanservicing.deployment.compile import compile_contracts
from loanservicing.deployment.deploy import deploy_system
from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.sync import Indexer, IndexerConfig
from loanservicing.ledger.schedule import DAY
from loanservicing.monitoring.monitor import Monitor
from loanservicing.monitoring.service import MonitorService
from loanservicing.servicing.borrower_signature import TermsSigner

UNIT = 10**6
BORROWERS = 20
ORIGINATE_GAS = 400_000
REPAY_GAS = 700_000

logger = logging.getLogger("benchmarks.monitor_tick")


def dev_keys(count: int) -> list[LocalAccount]:
    return [dev_signer(i).local_account() for i in range(count)]


def _terms(i: int, borrower: str, token: str, now: int) -> tuple[Any, ...]:
    kind = i % 3
    period = 14 * DAY if i % 5 == 0 else 30 * DAY
    installments = (6, 12, 18, 24)[(i // 3) % 4]
    principal = (1_000 + (i * 37) % 20_000) * UNIT
    first_due = now + 1 + ((i * 7919) % (period // DAY - 1)) * DAY + 3_600
    return (borrower, token, principal, (600, 1200, 1800)[i % 3], installments, period,
            first_due, kind, 5 * DAY, 500, 600, 90)  # fmt: skip


def build(w3: Web3, rpc_url: str, n: int, console: Console) -> dict[str, Any]:
    """Deploy, originate ``n`` loans and repay a realistic mix, all through the bulk path."""
    started = time.perf_counter()
    artifacts = compile_contracts()
    keys = dev_keys(BORROWERS + 1)
    lender, borrowers = keys[0], keys[1:]
    decoder = revert_decoder(artifacts)
    deployer = TransactionSender(w3, Signer(lender, "the lender"), decoder)
    system = bind(w3, deploy_system(deployer, artifacts), artifacts)
    token, ledger = system.token, system.ledger
    unlimited = 2**256 - 1
    sender = BulkSender(w3, lender, decoder)
    sender.send_all(
        [(token.functions.mint(lender.address, n * 21_000 * UNIT), 100_000),
         (token.functions.approve(ledger.address, unlimited), 100_000)]
        + [(token.functions.mint(b.address, n * 2_000 * UNIT), 100_000) for b in borrowers]
    )  # fmt: skip
    BulkSenders(w3, borrowers, decoder).send_all(
        (b.address, token.functions.approve(ledger.address, unlimited), 100_000) for b in borrowers
    )
    now = int(w3.eth.get_block("latest")["timestamp"])
    with console.status(f"originating {n:,} loans (bulk path)"):
        # Each borrower signs its terms (EIP-712) ahead of mining, its nonces counted here;
        # the lender's calls are mined in the order signed.
        signer = TermsSigner(ledger)
        calls = []
        for i in range(n):
            borrower = borrowers[i % BORROWERS]
            terms = _terms(i, borrower.address, token.address, now)
            fn = signer.originate(borrower, terms, lender.address, now + DAY)
            calls.append((fn, ORIGINATE_GAS))
        for start in range(0, n, 2_000):
            BulkSender(w3, lender, decoder).send_all(calls[start : start + 2_000])
    originated = time.perf_counter() - started
    mine(w3, now + 40 * DAY)
    repayments = []
    for i in range(n):
        share = (i * 13) % 20
        if share < 11:  # 55 %: the first installments in full, some ahead
            amount = (600 + (i * 37) % 20_000 // 8) * UNIT
        elif share < 15:  # 20 %: part of it
            amount = (20 + i % 200) * UNIT
        else:  # 25 %: nothing
            continue
        repayments.append(
            (borrowers[i % BORROWERS].address, ledger.functions.repay(i + 1, amount), REPAY_GAS)
        )
    with console.status(f"{len(repayments):,} repayments (bulk path)"):
        for start in range(0, len(repayments), 2_000):
            BulkSenders(w3, borrowers, decoder).send_all(repayments[start : start + 2_000])
    mine(w3, int(w3.eth.get_block("latest")["timestamp"]) + 25 * DAY)
    return {
        "ledger": ledger,
        "registry": system.credit_registry,
        "block": system.block,
        "abis": {"ledger": ledger.abi, "credit_registry": system.credit_registry.abi},
        "repayments": len(repayments),
        "originate_seconds": originated,
        "generate_seconds": time.perf_counter() - started,
    }


def naive_loop(w3: Web3, ledger: Any, ids: list[int], now: int) -> float:
    """The three views per loan (``amountDue`` an hour ahead: Anvil runs calls at its own
    clock, which may be a few seconds past the latest block)."""
    started = time.perf_counter()
    for loan_id in ids:
        ledger.functions.loan(loan_id).call()
        ledger.functions.amountDue(loan_id, now + 3_600).call()
        ledger.functions.daysPastDue(loan_id).call()
    return time.perf_counter() - started


@click.command()
@click.option("--loans", "n", default=10_000, show_default=True, help="Loans in the book.")
@click.option("--sample", default=1_000, show_default=True, help="Loans in the timed naive loop.")
def main(n: int, sample: int) -> None:
    """Time a monitor tick over N loans from the index against per-loan view calls."""
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(accounts=BORROWERS + 1) as node:
        w3 = Web3(HTTPProvider(node.rpc_url, request_kwargs={"timeout": RPC_TIMEOUT_S}))
        data = build(w3, node.rpc_url, n, console)
        db = IndexDB(Path(tmp) / "index.db")
        config = IndexerConfig(
            rpc_url=node.rpc_url,
            ledger=data["ledger"].address,
            registry=data["registry"].address,
            from_block=data["block"],
        )
        indexer = Indexer(config, db, abis=data["abis"])
        with console.status("indexing"):
            sync = indexer.sync()
        service = MonitorService(indexer, Monitor(db))
        with console.status("first tick (raises the backlog)"):
            started = time.perf_counter()
            first = service.tick()
            first_seconds = time.perf_counter() - started
        mine(w3, int(w3.eth.get_block("latest")["timestamp"]) + DAY)
        ticks = []
        for _ in range(3):  # a day later, three times: the first raises the day's notices
            started = time.perf_counter()
            result = service.tick()
            ticks.append((time.perf_counter() - started, result))
        tick_seconds, daily = ticks[0]
        repeat_seconds = min(t for t, _ in ticks[1:])
        now = daily.tick.now
        step = max(1, n // sample)
        ids = list(range(1, n + 1, step))[:sample]
        with console.status(f"naive loop over {len(ids):,} loans"):
            naive_sample = naive_loop(w3, data["ledger"], ids, now)
        naive_seconds = naive_sample * n / len(ids)
    ratio = naive_seconds / tick_seconds
    table = Table(title=f"Monitor tick over {n:,} loans vs per-loan view calls")
    table.add_column("measurement")
    table.add_column("seconds", justify="right")
    table.add_column("notes")
    table.add_row(
        "generate (bulk path)",
        f"{data['generate_seconds']:.1f}",
        f"{n:,} originations ({data['originate_seconds']:.1f} s), {data['repayments']:,} "
        "repayments, 65 days of chain time",
    )
    table.add_row("index backfill", f"{sync.seconds:.2f}", f"{sync.logs:,} events")
    table.add_row(
        "first tick",
        f"{first_seconds:.3f}",
        f"raised the backlog: {len(first.tick.raised):,} notices",
    )
    table.add_row(
        "daily tick (timed)",
        f"{tick_seconds:.3f}",
        f"sync + evaluate {daily.tick.loans:,} loans + {len(daily.tick.raised):,} new notices",
    )
    table.add_row("same tick repeated", f"{repeat_seconds:.3f}", "nothing new to raise")
    table.add_row(
        "naive loop (scaled)",
        f"{naive_seconds:.2f}",
        f"3 view calls per loan; timed on {len(ids):,} loans ({naive_sample:.2f} s), "
        f"x{n / len(ids):g}",
    )
    console.print(table)
    console.print(f"ratio: {ratio:.0f}x (target 50x)")
    click.echo(
        json.dumps(
            {
                "loans": n,
                "data": (
                    f"{n} loans originated and {data['repayments']} repaid on a local Anvil "
                    "through the bulk path"
                ),
                "generate_seconds": round(data["generate_seconds"], 1),
                "index_seconds": round(sync.seconds, 2),
                "events": sync.logs,
                "first_tick_seconds": round(first_seconds, 3),
                "first_tick_notices": len(first.tick.raised),
                "tick_seconds": round(tick_seconds, 3),
                "tick_notices": len(daily.tick.raised),
                "repeat_tick_seconds": round(repeat_seconds, 3),
                "naive_sample": len(ids),
                "naive_sample_seconds": round(naive_sample, 2),
                "naive_seconds": round(naive_seconds, 2),
                "ratio": round(ratio, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
