"""Scan a chain for personal data: every transaction's calldata (contract creations included)
and every log's topics and data, in every block of a range, searched for given values as
UTF-8 text and as hexadecimal text, case-insensitively.

    findings = scan_chain(w3, ["Marta Kowalczyk", "PL-84031207651"])

An empty list means none of the values appears anywhere in the range.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hexbytes import HexBytes
from web3 import Web3

__all__ = ["Finding", "ScanResult", "needle_forms", "scan_chain"]


@dataclass(frozen=True)
class Finding:
    value: str
    form: str
    """``utf-8`` (the bytes themselves) or ``hex`` (their hexadecimal spelled as text)."""
    where: str
    """``calldata`` or ``log``."""
    block_number: int
    tx_hash: str
    log_index: int | None = None


@dataclass(frozen=True)
class ScanResult:
    findings: list[Finding]
    blocks: int
    transactions: int
    logs: int
    bytes_scanned: int


def needle_forms(value: str) -> list[tuple[str, bytes]]:
    """The lower-cased byte strings searched for ``value``."""
    raw = value.encode("utf8")
    forms = [("utf-8", raw.lower())]
    if len(raw) >= 2:
        forms.append(("hex", raw.hex().encode()))
    return forms


def _matches(values: list[str], haystack: bytes) -> Iterator[tuple[str, str]]:
    lowered = haystack.lower()
    for value in values:
        for form, needle in needle_forms(value):
            if needle and needle in lowered:
                yield value, form


def scan_chain(
    w3: Web3, values: Iterable[str], from_block: int = 0, to_block: int | None = None
) -> ScanResult:
    """Search every transaction input and log of blocks ``from_block..to_block``."""
    wanted = [v for v in dict.fromkeys(values) if v]
    to_block = int(w3.eth.block_number) if to_block is None else to_block
    findings: list[Finding] = []
    transactions = logs = scanned = 0
    for number in range(from_block, to_block + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            assert not isinstance(tx, bytes)
            data = bytes(HexBytes(tx["input"]))
            transactions += 1
            scanned += len(data)
            tx_hash = HexBytes(tx["hash"]).to_0x_hex()
            for value, form in _matches(wanted, data):
                findings.append(Finding(value, form, "calldata", number, tx_hash))
        if not block["transactions"]:
            continue
        for log in w3.eth.get_logs({"fromBlock": number, "toBlock": number}):
            payload = b"".join(bytes(t) for t in log["topics"]) + bytes(HexBytes(log["data"]))
            logs += 1
            scanned += len(payload)
            for value, form in _matches(wanted, payload):
                findings.append(
                    Finding(
                        value,
                        form,
                        "log",
                        number,
                        HexBytes(log["transactionHash"]).to_0x_hex(),
                        int(log["logIndex"]),
                    )
                )
    return ScanResult(findings, to_block - from_block + 1, transactions, logs, scanned)
