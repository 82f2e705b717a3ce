"""Backfill benchmark: the indexer versus the bare fetch (its floor) and web3.py.

Generates at least 50,000 ledger and credit-registry events on a local Anvil (pre-signed raw
transactions sent in JSON-RPC batches with Anvil's automine paused and the pool mined with
``evm_mine``, as the bulk path does; late loans so that each repayment emits several events;
generation is not timed). Then it checks that the node is idle (the head does not move and
the pool stays empty over a second: a node mining by itself would share the machine's cores
with what is measured) and times, over the same block range and the same two contracts:

(0) the floor: one bare ``eth_getLogs`` of the whole range for both addresses (the JSON
    reply read, nothing decoded): the node's time plus the transfer;
(a) web3.py: ``contract.events.X.get_logs(from_block, to_block)`` for every event type of both
    contracts, decoded by web3 (the usual way);
(b) the indexer: a full backfill into a fresh database (fetch, decode, store the logs,
    replay every loan's state and credit record, commit), on SQLite and on PostgreSQL
    (``--database``; both by default when the server at ``--postgresql-url`` answers, each
    run in a schema of its own, dropped after it).

The floor and each sync run ``--repeat`` times; the best run of each is reported (the
machine is shared: the slower runs measure the neighbours), the medians are in the JSON.
Each sync's work is measured too, in CPU seconds: the node's (from /proc), this process's
(all its threads) and the forked child's (reaped inside the sync), against what the machine's
cores give in twice the floor's time: a sync that needs more cannot be within 2x however well
it overlaps. Prints a table; the last line is one JSON object, with ``floor_ratio_<store>`` =
sync seconds / bare fetch seconds (target: at most 2) and ``cpu_<store>`` (the best run's CPU
seconds by process).
Usage: ``python benchmarks/indexer.py [--events 50000] [--loans 1500]
[--database sqlite|postgresql|both] [--repeat 3] [--profile FILE]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from web3 import HTTPProvider, Web3

import psycopg
from eth_account import Account
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch_schema import scratch_schema  # benchmarks/ is the script's folder

from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.chain.bulk import mine_pool
from loanservicing.chain.node import AnvilNode
from loanservicing.chain.rpc import RpcClient
from loanservicing.chain.signing import CallData, Fees, LocalSigner
from loanservicing.deployment.bindings import bind, revert_decoder
from loanservicing.deployment.compile import compile_contracts
from loanservicing.deployment.deploy import deploy_system
from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.sync import Indexer, IndexerConfig
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.borrower_signature import PLAIN_CALENDAR, TermsSigner

UNIT = 10**6
BATCH = 500
GAS = 700_000
PAYERS = 9
POSTGRESQL_URL = "postgresql://postgres@127.0.0.1:5432/test"
IDLE_POLLS = 10
IDLE_POLL_S = 0.1


def _keys() -> list[Any]:
    return [dev_signer(i).local_account() for i in range(PAYERS + 1)]


def _send(rpc: RpcClient, raws: list[bytes]) -> None:
    """Send in JSON-RPC batches (automine is off), then mine the pool until it is empty.

    Not automine plus ``evm_mine`` when the receipts stall: that leaves Anvil with a queue of
    block jobs that go on mining empty blocks for minutes (see loanservicing.chain.bulk)."""
    last = None
    for start in range(0, len(raws), BATCH):
        chunk = raws[start : start + BATCH]
        last = rpc.batch([("eth_sendRawTransaction", ["0x" + r.hex()]) for r in chunk])[-1]
    mine_pool(rpc)
    if last is not None and rpc.call("eth_getTransactionReceipt", [last]) is None:
        raise SystemExit("A generated transaction was left in the pool, not mined.")


def generate(node: AnvilNode, events: int, loans: int) -> dict[str, Any]:
    """Deploy, originate ``loans`` late loans, repay them in rounds until enough events."""
    w3 = Web3(HTTPProvider(node.rpc_url, request_kwargs={"timeout": 120}))
    rpc = RpcClient(node.rpc_url, timeout=120)
    # Blocks far below the gas target keep the EIP-1559 base fee from climbing as the
    # benchmark fills them back to back.
    rpc.call("evm_setBlockGasLimit", [hex(10**11)])
    artifacts = compile_contracts()
    sender = TransactionSender(w3, dev_signer(0), revert_decoder(artifacts))
    deployed = bind(w3, deploy_system(sender, artifacts), artifacts)
    rpc.call("evm_setAutomine", [False])  # blocks only from evm_mine (see _send)
    ledger, registry, token = deployed.ledger, deployed.credit_registry, deployed.token
    assert token is not None
    chain_id = w3.eth.chain_id
    fees = Fees(max_fee_per_gas=50 * 10**9, max_priority_fee_per_gas=1)
    accounts = _keys()
    signers = [LocalSigner(a) for a in accounts]
    nonces = [w3.eth.get_transaction_count(s.address) for s in signers]

    def signed(i: int, to: str, data: bytes) -> bytes:
        tx = signers[i].sign(chain_id, nonces[i], CallData(bytes.fromhex(to[2:]), data), GAS, fees)
        nonces[i] += 1
        return tx.raw

    def call(fn: Any) -> bytes:
        return bytes.fromhex(fn._encode_transaction_data()[2:])

    # Money and allowances for the lender (0) and the payers (1..9).
    setup = []
    for i in range(PAYERS + 1):
        setup.append(
            signed(0, token.address, call(token.functions.mint(signers[i].address, 10**30)))
        )
    _send(rpc, setup)
    _send(
        rpc,
        [
            signed(i, token.address, call(token.functions.approve(ledger.address, 2**256 - 1)))
            for i in range(PAYERS + 1)
        ],
    )
    now = int(w3.eth.get_block("latest")["timestamp"])
    originations = []
    terms_signer = TermsSigner(ledger)
    for n in range(loans):
        # A borrower of its own per loan, who signs its terms (EIP-712) for the lender.
        borrower = Account.from_key(keccak(n.to_bytes(32, "big")))
        terms = (
            borrower.address, token.address, 1_000_000 * UNIT, 1200, 24, DAY, now + DAY,
            n % 3, 0, 500, 10_000, 3650, *PLAIN_CALENDAR,
        )  # fmt: skip
        fn = terms_signer.originate(borrower, terms, signers[0].address, now + DAY)
        originations.append(signed(0, ledger.address, call(fn)))
    _send(rpc, originations)
    if int(ledger.functions.loanCount().call()) != loans:
        raise SystemExit("The benchmark's originations reverted; nothing to index.")
    # Make every loan late, then repay a little on each loan every simulated hour.
    selector = keccak(text="repay(uint256,uint256)")[:4]
    rpc.call("evm_increaseTime", [12 * DAY])
    rpc.call("evm_mine", [])
    total = 2 * loans
    rounds = 0
    while total < events:
        raws = []
        for loan_id in range(1, loans + 1):
            payer = 1 + loan_id % PAYERS
            data = selector + loan_id.to_bytes(32, "big") + (UNIT + rounds).to_bytes(32, "big")
            raws.append(signed(payer, ledger.address, data))
        _send(rpc, raws)
        rpc.call("evm_increaseTime", [3_600])
        rpc.call("evm_mine", [])
        rounds += 1
        total = _count_logs(rpc, deployed.block, [ledger.address, registry.address])
        if rounds > 10 and total < rounds * loans:
            raise SystemExit("The benchmark's repayments revert; nothing to index.")
    rpc.call("evm_setAutomine", [True])
    head = w3.eth.block_number
    return {
        "w3": w3,
        "ledger": ledger,
        "registry": registry,
        "from_block": deployed.block,
        "to_block": head,
        "rounds": rounds,
    }


def _count_logs(rpc: RpcClient, first: int, addresses: list[str]) -> int:
    logs = rpc.call(
        "eth_getLogs", [{"fromBlock": hex(first), "toBlock": "latest", "address": addresses}]
    )
    return len(logs)


def wait_until_idle(rpc: RpcClient) -> tuple[int, float]:
    """The head, once it has not moved (and the pool stayed empty) over IDLE_POLLS polls;
    exits when the node keeps mining by itself, as nothing measured beside it would be fair."""
    head = int(rpc.call("eth_blockNumber"), 16)
    started = time.perf_counter()
    for _ in range(IDLE_POLLS):
        time.sleep(IDLE_POLL_S)
        now = int(rpc.call("eth_blockNumber"), 16)
        pool = rpc.call("txpool_status")
        if now != head or int(pool["pending"], 16) or int(pool["queued"], 16):
            raise SystemExit(
                f"The node is not idle after the generation: its head moved from {head} to "
                f"{now} (pool: {pool}); nothing is timed next to a node mining by itself."
            )
    return head, time.perf_counter() - started


def bare_fetch(node: AnvilNode, chain: dict[str, Any]) -> tuple[int, float]:
    """One eth_getLogs of the whole range for both contracts, the reply parsed (the floor)."""
    rpc = RpcClient(node.rpc_url, timeout=300)
    params = {
        "fromBlock": hex(chain["from_block"]),
        "toBlock": hex(chain["to_block"]),
        "address": [chain["ledger"].address, chain["registry"].address],
    }
    started = time.perf_counter()
    logs = rpc.call("eth_getLogs", [params])
    seconds = time.perf_counter() - started
    rpc.close()
    return len(logs), seconds


def web3_baseline(chain: dict[str, Any]) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    for contract in (chain["ledger"], chain["registry"]):
        for event in contract.all_events():
            logs = event.get_logs(from_block=chain["from_block"], to_block=chain["to_block"])
            count += len(logs)
    return count, time.perf_counter() - started


@contextmanager
def fresh_database(store: str, server: str) -> Iterator[str]:
    """A location for a new, empty index: a SQLite file in a temporary directory, or a
    PostgreSQL schema of its own (dropped afterwards)."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield str(Path(tmp) / "index.db")
        return
    with scratch_schema(server) as location:
        yield location


def node_cpu_seconds(node: AnvilNode) -> float | None:
    """CPU seconds the node's process has used (user and system; None off Linux)."""
    try:
        fields = Path(f"/proc/{node.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_now(node: AnvilNode) -> tuple[float | None, float, float]:
    """(node, this process, its reaped children) CPU seconds so far."""
    times = os.times()
    return node_cpu_seconds(node), time.process_time(), times.children_user + times.children_system


def indexer_backfill(
    node: AnvilNode,
    chain: dict[str, Any],
    location: str,
    profiler: cProfile.Profile | None = None,
) -> tuple[int, float, int, dict[str, float | None]]:
    """One full sync of the range into the fresh index at ``location``; the logs stored, the
    seconds, the loans and the CPU seconds by process (node, indexer, forked child)."""
    db = IndexDB(location)
    config = IndexerConfig(
        rpc_url=node.rpc_url,
        ledger=chain["ledger"].address,
        registry=chain["registry"].address,
        from_block=chain["from_block"],
    )
    indexer = Indexer(config, db)
    if profiler is not None:
        profiler.enable()
    cpu_before = _cpu_now(node)
    started = time.perf_counter()
    report = indexer.sync(to_block=chain["to_block"])
    seconds = time.perf_counter() - started
    cpu_after = _cpu_now(node)
    if profiler is not None:
        profiler.disable()
    node_before, node_after = cpu_before[0], cpu_after[0]
    cpu: dict[str, float | None] = {
        "node": None if node_before is None or node_after is None else node_after - node_before,
        "indexer": cpu_after[1] - cpu_before[1],
        "child": cpu_after[2] - cpu_before[2],
    }
    loans = db.loan_count()
    count = db.count_logs()
    if indexer.projections.forked_folds == 0:
        print("(the replay ran in-process: no forked child)", file=sys.stderr)
    if count != report.logs:
        raise SystemExit(f"The indexer stored {count} logs but fetched {report.logs}.")
    db.close()
    return count, seconds, loans, cpu


def _postgresql_answers(server: str) -> bool:
    try:
        with psycopg.connect(server, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def _timed(repeat: int, run: Callable[[], tuple[int, float]]) -> tuple[int, float, list[float]]:
    counts: set[int] = set()
    seconds: list[float] = []
    for _ in range(repeat):
        count, took = run()
        counts.add(count)
        seconds.append(took)
    if len(counts) != 1:
        raise SystemExit(f"Runs over the same range saw different numbers of logs: {counts}")
    return counts.pop(), min(seconds), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--loans", type=int, default=1_500)
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql", "both"),
        default=None,
        help="the stores to sync into (default: both when the PostgreSQL server answers)",
    )
    parser.add_argument("--postgresql-url", default=POSTGRESQL_URL)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-web3", action="store_true", help="skip web3.py's get_logs (for quick trials)"
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="write cProfile stats of the syncs here"
    )
    args = parser.parse_args()
    server = str(args.postgresql_url)
    if args.database is None:
        stores = ["sqlite", "postgresql"] if _postgresql_answers(server) else ["sqlite"]
        if stores == ["sqlite"]:
            print(f"PostgreSQL at {server} does not answer: SQLite only", file=sys.stderr)
    else:
        stores = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    profiler = cProfile.Profile() if args.profile is not None else None
    with AnvilNode() as node:
        started = time.perf_counter()
        chain = generate(node, args.events, args.loans)
        generation = time.perf_counter() - started
        blocks = chain["to_block"] - chain["from_block"] + 1
        print(
            f"generated events over {blocks} blocks ({chain['rounds']} repayment rounds) "
            f"in {generation:.1f} s",
            file=sys.stderr,
        )
        head, quiet = wait_until_idle(RpcClient(node.rpc_url))
        idle = f"node idle: head {head} did not move and the pool stayed empty over {quiet:.1f} s"
        fetched, fetch_seconds, fetch_runs = _timed(args.repeat, lambda: bare_fetch(node, chain))
        web3_events, web3_seconds = (0, 0.0) if args.no_web3 else web3_baseline(chain)
        synced: dict[str, tuple[int, float, list[float], int]] = {}
        cpu_of: dict[str, dict[str, float | None]] = {}
        for store in stores:
            loans_seen: list[int] = []
            cpu_runs: list[tuple[float, dict[str, float | None]]] = []

            def one_sync(
                store: str = store,
                loans_seen: list[int] = loans_seen,
                cpu_runs: list[tuple[float, dict[str, float | None]]] = cpu_runs,
            ) -> tuple[int, float]:
                with fresh_database(store, server) as location:
                    count, seconds, loans, cpu = indexer_backfill(node, chain, location, profiler)
                loans_seen.append(loans)
                cpu_runs.append((seconds, cpu))
                return count, seconds

            count, seconds, runs = _timed(args.repeat, one_sync)
            if count != fetched:
                raise SystemExit(f"The {store} index holds {count} logs; the range has {fetched}.")
            synced[store] = (count, seconds, runs, loans_seen[-1])
            cpu_of[store] = min(cpu_runs, key=lambda run: run[0])[1]
        still = int(RpcClient(node.rpc_url).call("eth_blockNumber"), 16)
        if still != head:
            raise SystemExit(f"The node's head moved from {head} to {still} while measuring.")
    if profiler is not None:
        profiler.dump_stats(str(args.profile))
    web3_rate = web3_events / web3_seconds if web3_seconds else 0.0
    fetch_rate = fetched / fetch_seconds
    lines = [
        idle,
        f"{'':46} {'events':>7} {'seconds':>8} {'events/s':>10} {'x floor':>8}",
        f"{'bare eth_getLogs (the floor)':46} {fetched:>7} {fetch_seconds:>8.3f} "
        f"{fetch_rate:>10,.0f} {1:>8.2f}",
    ]
    if web3_seconds:
        lines.append(
            f"{'web3.py get_logs + decoding':46} {web3_events:>7} {web3_seconds:>8.3f} "
            f"{web3_rate:>10,.0f} {web3_seconds / fetch_seconds:>8.2f}"
        )
    for store, (count, seconds, _, loans) in synced.items():
        label = f"indexer full sync, {store} ({loans} loans)"
        lines.append(
            f"{label:46} {count:>7} {seconds:>8.3f} {count / seconds:>10,.0f} "
            f"{seconds / fetch_seconds:>8.2f}"
        )
    lines.append(
        f"(best of {args.repeat} runs each; {blocks} blocks; x floor = seconds / bare fetch "
        "seconds, target <= 2)"
    )
    cores = os.cpu_count() or 1
    budget = cores * 2 * fetch_seconds
    for store, cpu in cpu_of.items():
        known = [v for v in cpu.values() if v is not None]
        parts = ", ".join(f"{k} {v:.2f}" if v is not None else f"{k} ?" for k, v in cpu.items())
        lines.append(
            f"CPU seconds of the {store} sync: {parts}; {sum(known):.2f} in all, against "
            f"{budget:.2f} that {cores} cores give in 2x the floor's time"
            + (" (the PostgreSQL server's own work not counted)" if store == "postgresql" else "")
        )
    for line in lines:
        sys.stdout.write(line + "\n")
    result: dict[str, Any] = {
        "events": fetched,
        "web3_events": web3_events,
        "blocks": blocks,
        "node_idle": True,
        "idle_head": head,
        "repeat": args.repeat,
        "fetch_seconds": round(fetch_seconds, 3),
        "fetch_runs": [round(r, 3) for r in fetch_runs],
        "fetch_median_seconds": round(statistics.median(fetch_runs), 3),
        "web3_seconds": round(web3_seconds, 3),
        "web3_events_per_s": round(web3_rate),
        "generation_seconds": round(generation, 1),
    }
    for store, (count, seconds, runs, loans) in synced.items():
        result[f"loans_{store}"] = loans
        result[f"indexer_seconds_{store}"] = round(seconds, 3)
        result[f"indexer_runs_{store}"] = [round(r, 3) for r in runs]
        result[f"indexer_events_per_s_{store}"] = round(count / seconds)
        result[f"floor_ratio_{store}"] = round(seconds / fetch_seconds, 2)
        result[f"floor_ratio_median_{store}"] = round(
            statistics.median(runs) / statistics.median(fetch_runs), 2
        )
        result[f"cpu_{store}"] = {
            k: None if v is None else round(v, 3) for k, v in cpu_of[store].items()
        }
    result["cores"] = os.cpu_count()
    if "sqlite" in synced:  # the fields earlier runs had
        count, seconds, _, loans = synced["sqlite"]
        result["loans"] = loans
        result["indexer_seconds"] = round(seconds, 3)
        result["indexer_events_per_s"] = round(count / seconds)
        if web3_rate:
            result["ratio"] = round((count / seconds) / web3_rate, 2)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
