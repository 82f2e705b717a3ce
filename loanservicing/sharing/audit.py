"""The regulator's audit bundle: every servicing and data-sharing event in a block range as
CSV, the credit records at the export height, and a manifest that pins the chain (the block
hash at the export height) and every file (SHA-256). ``verify_bundle`` re-checks every row
against the chain and names each mismatch.

No personal data can appear: every value comes from the chain, which holds only addresses,
amounts, dates and salted hashes.

Files: ``loans.csv`` (LoanOriginated), ``repayments.csv`` (RepaymentApplied with its split),
``charges.csv`` (ChargesAccrued), ``delinquency.csv`` (DelinquencyBucketChanged),
``defaults.csv`` (LoanDefaulted), ``restructurings.csv`` (RestructureProposed,
RestructureWithdrawn, LoanRestructured, ScheduleReset), ``closures.csv`` (LoanClosed, and
InterestRebated: interest paid ahead credited back at payoff), ``held_repayments.csv``
(RepaymentHeld: repayments the ledger held when the transfer to the lender failed, and their
Claimed), ``credit_report_failures.csv`` (CreditReportFailed), ``tokens.csv`` (TokenAllowed:
the admin's allowlist), ``credit_reports.csv`` (the credit registry's events),
``credit_records.csv`` (each reported borrower's record at the export height, with the last
event that changed it), ``attestations.csv`` (attestation and attester metadata: hashes, never
documents), ``consents.csv`` (grants, revocations, regulator accesses). Every event row carries
``tx_hash``, ``block_number`` and ``log_index``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from eth_utils.abi import event_abi_to_log_topic
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from loanservicing.chain.abi import output_fields
from loanservicing.sharing.errors import AuditMismatch

__all__ = [
    "MANIFEST",
    "AuditSources",
    "BundleReport",
    "bundle_files",
    "export_bundle",
    "verify_bundle",
    "zip_bundle",
]

MANIFEST = "manifest.json"
FORMAT_VERSION = 2
"""2: held repayments and claims, failed credit reports, the token allowlist, withdrawn
restructurings and interest rebates."""
ROW_KEYS = ("tx_hash", "block_number", "log_index")

# file name -> (source name, event names)
EVENT_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "loans.csv": ("ledger", ("LoanOriginated",)),
    "repayments.csv": ("ledger", ("RepaymentApplied",)),
    "charges.csv": ("ledger", ("ChargesAccrued",)),
    "delinquency.csv": ("ledger", ("DelinquencyBucketChanged",)),
    "defaults.csv": ("ledger", ("LoanDefaulted",)),
    "restructurings.csv": (
        "ledger",
        ("RestructureProposed", "RestructureWithdrawn", "LoanRestructured", "ScheduleReset"),
    ),
    "closures.csv": ("ledger", ("LoanClosed", "InterestRebated")),
    "held_repayments.csv": ("ledger", ("RepaymentHeld", "Claimed")),
    "credit_report_failures.csv": ("ledger", ("CreditReportFailed",)),
    "tokens.csv": ("ledger", ("TokenAllowed",)),
    "credit_reports.csv": (
        "credit_registry",
        (
            "LoanOpenedReported",
            "RepaymentReported",
            "DelinquencyReported",
            "DefaultReported",
            "LoanClosedReported",
        ),
    ),
    "attestations.csv": (
        "attestation_registry",
        ("AttesterRegistered", "AttesterRemoved", "AttestationSubmitted", "AttestationRevoked"),
    ),
    "consents.csv": (
        "consent_registry",
        ("ConsentGranted", "ConsentRevoked", "RegulatorAccessed"),
    ),
}
CREDIT_RECORDS = "credit_records.csv"


@dataclass(frozen=True)
class AuditSources:
    """The contracts an export reads (the data-sharing ones are optional)."""

    ledger: Contract
    credit_registry: Contract
    attestation_registry: Contract | None = None
    consent_registry: Contract | None = None

    def get(self, name: str) -> Contract | None:
        contract: Contract | None = getattr(self, name)
        return contract

    def addresses(self) -> dict[str, str | None]:
        return {
            name: (c.address if (c := self.get(name)) is not None else None)
            for name in ("ledger", "credit_registry", "attestation_registry", "consent_registry")
        }


@dataclass
class BundleReport:
    """What ``verify_bundle`` found: ``ok`` when ``mismatches`` is empty."""

    directory: Path
    rows_checked: int = 0
    files_checked: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


# ------------------------------------------------------------------------ rendering
def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes | bytearray | HexBytes):
        return "0x" + bytes(value).hex()
    if isinstance(value, str) and Web3.is_address(value):
        return Web3.to_checksum_address(value)
    return str(value)


def _flatten(abi_inputs: list[dict[str, Any]], args: Mapping[str, Any]) -> dict[str, str]:
    row: dict[str, str] = {}
    for item in abi_inputs:
        value = args[item["name"]]
        if item["type"] == "tuple":
            components = item["components"]
            values = (
                [value[c["name"]] for c in components]
                if isinstance(value, Mapping)
                else list(value)
            )
            for component, inner in zip(components, values, strict=True):
                row[f"{item['name']}_{component['name']}"] = _cell(inner)
        else:
            row[item["name"]] = _cell(value)
    return row


def _columns(contract: Contract, events: Iterable[str]) -> list[str]:
    names: list[str] = ["event"]
    for event in events:
        for item in _event_abi(contract, event)["inputs"]:
            if item["type"] == "tuple":
                extra = [f"{item['name']}_{c['name']}" for c in item["components"]]
            else:
                extra = [item["name"]]
            names.extend(n for n in extra if n not in names)
    return [*names, *ROW_KEYS]


def _abi(contract: Contract) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], contract.abi)


def _event_abi(contract: Contract, name: str) -> dict[str, Any]:
    return next(i for i in _abi(contract) if i.get("type") == "event" and i["name"] == name)


def _topics(contract: Contract, events: Iterable[str]) -> dict[bytes, str]:
    return {bytes(event_abi_to_log_topic(_event_abi(contract, e))): e for e in events}  # type: ignore[arg-type]


def _event_row(contract: Contract, event: str, log: Any) -> dict[str, str]:
    decoded = getattr(contract.events, event)().process_log(log)
    row = {"event": event, **_flatten(_event_abi(contract, event)["inputs"], decoded["args"])}
    row["tx_hash"] = HexBytes(log["transactionHash"]).to_0x_hex()
    row["block_number"] = str(int(log["blockNumber"]))
    row["log_index"] = str(int(log["logIndex"]))
    return row


def _logs(w3: Web3, contract: Contract, from_block: int, to_block: int) -> list[Any]:
    logs = w3.eth.get_logs(
        {"address": contract.address, "fromBlock": from_block, "toBlock": to_block}
    )
    return sorted(logs, key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))


def _event_rows(
    w3: Web3, contract: Contract, events: tuple[str, ...], from_block: int, to_block: int
) -> list[dict[str, str]]:
    topics = _topics(contract, events)
    rows = []
    for log in _logs(w3, contract, from_block, to_block):
        if log["topics"] and bytes(log["topics"][0]) in topics:
            rows.append(_event_row(contract, topics[bytes(log["topics"][0])], log))
    return rows


def _record_fields(registry: Contract) -> list[str]:
    """The fields of the registry's ``creditRecord`` struct, in the ABI's order."""
    return output_fields(_abi(registry), "creditRecord")


def _credit_record_rows(
    registry: Contract, report_rows: list[dict[str, str]], to_block: int
) -> list[dict[str, str]]:
    """One row per reported borrower: the record at ``to_block`` and the last report."""
    last: dict[str, dict[str, str]] = {}
    for row in report_rows:
        last[row["borrower"]] = row
    fields = _record_fields(registry)
    rows = []
    for borrower in sorted(last):
        raw = registry.functions.creditRecord(borrower).call(block_identifier=to_block)
        row = {"borrower": borrower, **{f: _cell(v) for f, v in zip(fields, raw, strict=True)}}
        row["as_of_block"] = str(to_block)
        row.update({k: last[borrower][k] for k in ROW_KEYS})
        rows.append(row)
    return rows


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -------------------------------------------------------------------------- export
def export_bundle(
    w3: Web3,
    sources: AuditSources,
    out: Path,
    from_block: int = 0,
    to_block: int | None = None,
) -> dict[str, Any]:
    """Write the bundle into ``out`` and return the manifest."""
    head = int(w3.eth.block_number)
    to_block = head if to_block is None else to_block
    if not 0 <= from_block <= to_block <= head:
        raise AuditMismatch(
            f"The block range {from_block}..{to_block} is not within the chain (head {head})."
        )
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    report_rows: list[dict[str, str]] = []
    for name, (source, events) in EVENT_FILES.items():
        contract = sources.get(source)
        if contract is None:
            continue
        rows = _event_rows(w3, contract, events, from_block, to_block)
        if name == "credit_reports.csv":
            report_rows = rows
        _write_csv(out / name, _columns(contract, events), rows)
        files[name] = {"rows": len(rows)}
    record_rows = _credit_record_rows(sources.credit_registry, report_rows, to_block)
    record_columns = ["borrower", *_record_fields(sources.credit_registry), "as_of_block"]
    _write_csv(out / CREDIT_RECORDS, [*record_columns, *ROW_KEYS], record_rows)
    files[CREDIT_RECORDS] = {"rows": len(record_rows)}
    for name in files:
        files[name]["sha256"] = _sha256(out / name)
    block = w3.eth.get_block(to_block)
    manifest = {
        "format": FORMAT_VERSION,
        "chain_id": int(w3.eth.chain_id),
        "from_block": from_block,
        "to_block": to_block,
        "block_hash": HexBytes(block["hash"]).to_0x_hex(),
        "block_timestamp": int(block["timestamp"]),
        "contracts": sources.addresses(),
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf8")
    return manifest


# -------------------------------------------------------------------------- verify
def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf8") as handle:
        return list(csv.DictReader(handle))


def _where(name: str, number: int, row: Mapping[str, str]) -> str:
    return (
        f"{name} row {number} (tx {row.get('tx_hash', '?')}, block {row.get('block_number', '?')}, "
        f"log {row.get('log_index', '?')})"
    )


def _compare(
    report: BundleReport, where: str, expected: Mapping[str, str], row: Mapping[str, str]
) -> None:
    for column, value in expected.items():
        if row.get(column) != value:
            report.mismatches.append(
                f"{where}: {column} is {row.get(column)!r} in the file but {value!r} on chain."
            )
    for column in row:
        if column not in expected and column not in ROW_KEYS and row[column] not in ("", None):
            report.mismatches.append(f"{where}: column {column} is not part of this event.")


class _Receipts:
    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self._cache: dict[str, Any] = {}

    def log(self, tx_hash: str, log_index: int) -> Any | None:
        if tx_hash not in self._cache:
            try:
                self._cache[tx_hash] = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except Exception:  # unknown or malformed hash
                self._cache[tx_hash] = None
        receipt = self._cache[tx_hash]
        if receipt is None:
            return None
        return next((lg for lg in receipt["logs"] if int(lg["logIndex"]) == log_index), None)


def _check_event_file(
    w3: Web3,
    report: BundleReport,
    receipts: _Receipts,
    name: str,
    contract: Contract,
    events: tuple[str, ...],
    rows: list[dict[str, str]],
    from_block: int,
    to_block: int,
) -> None:
    topics = _topics(contract, events)
    seen: set[tuple[str, int]] = set()
    for number, row in enumerate(rows, start=1):
        where = _where(name, number, row)
        report.rows_checked += 1
        try:
            key = (row["tx_hash"].lower(), int(row["log_index"]))
            block_number = int(row["block_number"])
        except (KeyError, ValueError, AttributeError):
            report.mismatches.append(f"{where}: tx_hash, block_number or log_index is unreadable.")
            continue
        if key in seen:
            report.mismatches.append(f"{where}: the same log appears twice.")
        seen.add(key)
        log = receipts.log(*key)
        if log is None:
            report.mismatches.append(f"{where}: no such log on chain.")
            continue
        if int(log["blockNumber"]) != block_number:
            report.mismatches.append(
                f"{where}: block_number is {block_number} in the file but "
                f"{int(log['blockNumber'])} on chain."
            )
        if not from_block <= int(log["blockNumber"]) <= to_block:
            report.mismatches.append(f"{where}: the log lies outside the exported block range.")
        if log["address"] != contract.address or not log["topics"]:
            report.mismatches.append(f"{where}: the log was not emitted by {contract.address}.")
            continue
        event = topics.get(bytes(log["topics"][0]))
        if event is None:
            report.mismatches.append(f"{where}: the log is not one of {', '.join(events)}.")
            continue
        expected = _event_row(contract, event, log)
        _compare(report, where, {k: v for k, v in expected.items() if k not in ROW_KEYS}, row)
    on_chain = {
        (HexBytes(log["transactionHash"]).to_0x_hex(), int(log["logIndex"]))
        for log in _logs(w3, contract, from_block, to_block)
        if log["topics"] and bytes(log["topics"][0]) in topics
    }
    for tx_hash, log_index in sorted(on_chain - seen, key=lambda k: (k[0], k[1])):
        report.mismatches.append(
            f"{name}: the log {log_index} of tx {tx_hash} is on chain but missing from the file."
        )


def _check_credit_records(
    w3: Web3,
    report: BundleReport,
    receipts: _Receipts,
    registry: Contract,
    rows: list[dict[str, str]],
    reports_path: Path,
    to_block: int,
) -> None:
    fields = _record_fields(registry)
    expected_borrowers = (
        {r["borrower"] for r in _read_csv(reports_path)} if reports_path.is_file() else set()
    )
    seen = set()
    for number, row in enumerate(rows, start=1):
        where = _where(CREDIT_RECORDS, number, row)
        report.rows_checked += 1
        borrower = row.get("borrower", "")
        if not Web3.is_address(borrower):
            report.mismatches.append(f"{where}: borrower {borrower!r} is not an address.")
            continue
        seen.add(borrower)
        raw = registry.functions.creditRecord(Web3.to_checksum_address(borrower)).call(
            block_identifier=to_block
        )
        expected = {"borrower": Web3.to_checksum_address(borrower), "as_of_block": str(to_block)}
        expected.update({f: _cell(v) for f, v in zip(fields, raw, strict=True)})
        _compare(report, where, expected, row)
        try:
            log = receipts.log(row["tx_hash"].lower(), int(row["log_index"]))
        except (KeyError, ValueError):
            log = None
        if log is None or log["address"] != registry.address:
            report.mismatches.append(f"{where}: its last report is not a credit registry log.")
        elif len(log["topics"]) < 2 or bytes(log["topics"][1])[-20:] != bytes(HexBytes(borrower)):
            report.mismatches.append(f"{where}: its last report is about another borrower.")
    for borrower in sorted(expected_borrowers - seen):
        report.mismatches.append(
            f"{CREDIT_RECORDS}: borrower {borrower} has credit reports but no record row."
        )


def verify_bundle(w3: Web3, directory: Path, sources: AuditSources | None = None) -> BundleReport:
    """Re-check a bundle against the chain. ``sources`` default to the manifest's contracts
    (with the project's ABIs supplied by the caller through ``sources`` when given)."""
    report = BundleReport(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf8"))
        from_block, to_block = int(manifest["from_block"]), int(manifest["to_block"])
        files: dict[str, Any] = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report.mismatches.append(f"The manifest cannot be read: {exc}.")
        return report
    if int(manifest.get("chain_id", -1)) != int(w3.eth.chain_id):
        report.mismatches.append(
            f"The bundle is for chain {manifest.get('chain_id')}, the node is chain "
            f"{w3.eth.chain_id}."
        )
        return report
    try:
        block = w3.eth.get_block(to_block)
        block_hash = HexBytes(block["hash"]).to_0x_hex()
    except Exception:  # the block does not exist on this node
        block_hash = None
    if block_hash != manifest.get("block_hash"):
        report.mismatches.append(
            f"The block hash at height {to_block} is {block_hash} on chain but "
            f"{manifest.get('block_hash')} in the manifest: this is another chain or a reorg."
        )
        return report
    if sources is None:
        raise AuditMismatch("verify_bundle needs the contracts (with their ABIs) to check rows.")
    for name, address in manifest.get("contracts", {}).items():
        contract = sources.get(name)
        if address is not None and (contract is None or contract.address != address):
            report.mismatches.append(
                f"The manifest's {name} is {address}, not the contract being checked."
            )
    present = {p.name for p in directory.iterdir() if p.suffix == ".csv"}
    for name in sorted(present - set(files)):
        report.mismatches.append(f"{name} is not listed in the manifest.")
    receipts = _Receipts(w3)
    for name, entry in files.items():
        path = directory / name
        if not path.is_file():
            report.mismatches.append(f"{name} is listed in the manifest but missing.")
            continue
        report.files_checked += 1
        if _sha256(path) != entry.get("sha256"):
            report.mismatches.append(f"{name}: its SHA-256 does not match the manifest.")
        rows = _read_csv(path)
        if len(rows) != entry.get("rows"):
            report.mismatches.append(
                f"{name}: {len(rows)} rows in the file but {entry.get('rows')} in the manifest."
            )
        if name == CREDIT_RECORDS:
            _check_credit_records(
                w3,
                report,
                receipts,
                sources.credit_registry,
                rows,
                directory / "credit_reports.csv",
                to_block,
            )
            continue
        if name not in EVENT_FILES:
            report.mismatches.append(f"{name} is not a file this export writes.")
            continue
        source, events = EVENT_FILES[name]
        contract = sources.get(source)
        if contract is None:
            report.mismatches.append(f"{name}: no {source} contract to check it against.")
            continue
        _check_event_file(w3, report, receipts, name, contract, events, rows, from_block, to_block)
    return report


# ------------------------------------------------------------------------ packaging
def bundle_files(directory: Path) -> list[str]:
    """The names of the bundle's files: the manifest and every file it lists that is there
    (names only, never a path: a manifest naming anything else is ignored)."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf8"))
        listed = [str(name) for name in manifest["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    known = set(EVENT_FILES) | {CREDIT_RECORDS}
    return [MANIFEST, *(n for n in listed if n in known and (directory / n).is_file())]


def zip_bundle(directory: Path) -> bytes:
    """The bundle's files (:func:`bundle_files`) as one zip archive, for a download."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in bundle_files(directory):
            archive.write(directory / name, name)
    return out.getvalue()
