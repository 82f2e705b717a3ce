"""Backfill benchmark: the indexer versus web3.py's ``contract.events.X.get_logs()``.

Generates at least 50,000 ledger and credit-registry events on a local Anvil (pre-signed raw
transactions sent in JSON-RPC batches; late loans so that each repayment emits several
events; generation is not timed), then indexes the same block range twice:

(a) web3.py: ``contract.events.X.get_logs(from_block, to_block)`` for every event type of both
    contracts, decoded by web3 (the usual way);
(b) the indexer: a backfill into a fresh SQLite database (fetch, decode, store the logs,
    replay every loan's state and credit record, commit).

Prints both rates and their ratio; the last line is one JSON object.
Usage: ``python benchmarks/indexer.py [--events 50000] [--loans 1500]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from web3 import HTTPProvider, Web3

from eth_account import Account
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loanservicing.chain.accounts import TransactionSender, dev_signer
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


def _keys() -> list[Any]:
    return [dev_signer(i).local_account() for i in range(PAYERS + 1)]


def _send(rpc: RpcClient, raws: list[bytes]) -> None:
    """Send in JSON-RPC batches, then wait until the last one is mined."""
    last = None
    for start in range(0, len(raws), BATCH):
        chunk = raws[start : start + BATCH]
        last = rpc.batch([("eth_sendRawTransaction", ["0x" + r.hex()]) for r in chunk])[-1]
    deadline = time.monotonic() + 120
    while last is not None and rpc.call("eth_getTransactionReceipt", [last]) is None:
        if time.monotonic() > deadline:
            raise SystemExit("A generated transaction was not mined within 2 minutes.")
        # Anvil's automine can leave the tail of a large batch in the pool: mine it.
        rpc.call("evm_mine", [])


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


def web3_baseline(chain: dict[str, Any]) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    for contract in (chain["ledger"], chain["registry"]):
        for event in contract.all_events():
            logs = event.get_logs(from_block=chain["from_block"], to_block=chain["to_block"])
            count += len(logs)
    return count, time.perf_counter() - started


def indexer_backfill(node: AnvilNode, chain: dict[str, Any]) -> tuple[int, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        db = IndexDB(Path(tmp) / "index.db")
        config = IndexerConfig(
            rpc_url=node.rpc_url,
            ledger=chain["ledger"].address,
            registry=chain["registry"].address,
            from_block=chain["from_block"],
        )
        indexer = Indexer(config, db)
        started = time.perf_counter()
        report = indexer.sync(to_block=chain["to_block"])
        seconds = time.perf_counter() - started
        loans = db.loan_count()
        count = db.count_logs()
        assert count == report.logs or report.logs >= count
        db.close()
        return count, seconds, loans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--loans", type=int, default=1_500)
    args = parser.parse_args()
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
        web3_events, web3_seconds = web3_baseline(chain)
        indexed, index_seconds, loans = indexer_backfill(node, chain)
    web3_rate = web3_events / web3_seconds
    index_rate = indexed / index_seconds
    ratio = index_rate / web3_rate
    lines = [
        f"web3.py get_logs + decoding: {web3_events} events in {web3_seconds:.2f} s = "
        f"{web3_rate:,.0f} events/s",
        f"indexer backfill (fetch, decode, SQLite, loan state): {indexed} events, {loans} loans "
        f"in {index_seconds:.2f} s = {index_rate:,.0f} events/s",
        f"ratio: {ratio:.1f}x",
    ]
    for line in lines:
        sys.stdout.write(line + "\n")
    result = {
        "events": indexed,
        "web3_events": web3_events,
        "blocks": blocks,
        "loans": loans,
        "web3_seconds": round(web3_seconds, 3),
        "web3_events_per_s": round(web3_rate),
        "indexer_seconds": round(index_seconds, 3),
        "indexer_events_per_s": round(index_rate),
        "generation_seconds": round(generation, 1),
        "ratio": round(ratio, 2),
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
