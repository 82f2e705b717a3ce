"""The regulator's audit bundle against a real Anvil: it verifies after a data-sharing run with
an erasure, and any edited cell, removed row or foreign manifest is named by audit-verify."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from web3 import Web3

from loanservicing.chain.abi import REPORTER_ROLE, role
from loanservicing.chain.node import increase_time
from loanservicing.chain.transactions import send
from loanservicing.demo.data_sharing import (
    SAMPLE_PEOPLE,
    DataSharingSummary,
    dev_keys,
    run_data_sharing,
)
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.ledger.schedule import DAY
from loanservicing.sharing.attestations import AttestationClient
from loanservicing.sharing.audit import AuditSources, export_bundle, verify_bundle
from loanservicing.sharing.consent import ConsentClient
from loanservicing.sharing.errors import DocumentErased
from loanservicing.sharing.privacy_scan import scan_chain
from loanservicing.sharing.vault import Vault, sign_access_request
from tests.support.data import LedgerEnv
from tests.support.ledger_driver import UNIT, LedgerDriver


@pytest.fixture
def run(
    w3: Web3, artifacts: dict[str, ContractArtifact], ledger_env: LedgerEnv, tmp_path: Path
) -> tuple[DataSharingSummary, AuditSources]:
    summary = run_data_sharing(
        w3, artifacts, ledger_env.ledger, ledger_env.token, tmp_path / "vault"
    )
    # One loan goes over 90 days late and is declared in default.
    increase_time(w3, 160 * DAY)
    decoder = revert_decoder(artifacts)
    admin = w3.eth.accounts[0]
    send(w3, ledger_env.ledger.functions.assess(summary.loans[1]), admin, decoder)
    send(w3, ledger_env.ledger.functions.declareDefault(summary.loans[1]), admin, decoder)
    sources = AuditSources(
        ledger_env.ledger,
        ledger_env.credit_registry,
        summary.contracts.attestation_registry,
        summary.contracts.consent_registry,
    )
    return summary, sources


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open(newline="") as handle:
        columns = next(csv.reader(handle))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _reseal(bundle: Path, name: str) -> None:
    """Update the manifest after an edit, as a careful forger would."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"][name]["sha256"] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
    manifest["files"][name]["rows"] = len(_rows(bundle / name))
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def test_bundle_rows_carry_chain_positions_and_verify(
    w3: Web3, run: tuple[DataSharingSummary, AuditSources], tmp_path: Path
) -> None:
    summary, sources = run
    bundle = tmp_path / "audit"
    manifest = export_bundle(w3, sources, bundle)
    assert manifest["to_block"] == w3.eth.block_number
    assert manifest["block_hash"] == w3.eth.get_block(manifest["to_block"])["hash"].to_0x_hex()
    files = manifest["files"]
    assert files["loans.csv"]["rows"] == len(SAMPLE_PEOPLE)
    assert files["repayments.csv"]["rows"] == len(SAMPLE_PEOPLE)
    assert files["defaults.csv"]["rows"] == 1
    assert files["delinquency.csv"]["rows"] >= 1
    assert files["credit_records.csv"]["rows"] == len(SAMPLE_PEOPLE)
    assert files["attestations.csv"]["rows"] == 3 + len(summary.attestations)
    assert files["consents.csv"]["rows"] == len(SAMPLE_PEOPLE) + 1
    repayments = _rows(bundle / "repayments.csv")
    for row in repayments:
        receipt = w3.eth.get_transaction_receipt(row["tx_hash"])
        assert receipt["blockNumber"] == int(row["block_number"])
        assert any(log["logIndex"] == int(row["log_index"]) for log in receipt["logs"])
        assert int(row["interest"]) + int(row["principal"]) == 500 * 10**6
    defaults = _rows(bundle / "defaults.csv")
    assert int(defaults[0]["loanId"]) == summary.loans[1]
    for name, entry in files.items():
        assert hashlib.sha256((bundle / name).read_bytes()).hexdigest() == entry["sha256"]
    report = verify_bundle(w3, bundle, sources)
    assert report.ok, report.mismatches
    assert report.rows_checked == sum(e["rows"] for e in files.values())


def test_erasure_leaves_the_bundle_verifiable_and_the_credit_record_intact(
    w3: Web3, run: tuple[DataSharingSummary, AuditSources], tmp_path: Path
) -> None:
    summary, sources = run
    erased = summary.erased[0]
    bundle = tmp_path / "audit"
    export_bundle(w3, sources, bundle)
    records = {r["borrower"]: r for r in _rows(bundle / "credit_records.csv")}
    on_chain = sources.credit_registry.functions.creditRecord(erased).call()
    assert records[erased]["loansOpened"] == "1" == str(on_chain[6])
    assert int(records[erased]["totalRepaid"]) == on_chain[8] > 0
    # Erase a second borrower after the export: the chain, hence the bundle, is unaffected.
    vault_dir = tmp_path / "vault"
    consents = ConsentClient(w3, summary.contracts.consent_registry, revert_decoder({}))
    vault = Vault(vault_dir / "vault.db", vault_dir / "keys" / "keys.db", consents)
    second = summary.consents[1]["borrower"]
    vault.erase(second)
    assert verify_bundle(w3, bundle, sources).ok
    assert sources.credit_registry.functions.creditRecord(second).call()[6] == 1
    # ...while the documents can no longer be read nor matched to their on-chain hashes.
    keys = {k.address: k for k in dev_keys()}
    request = sign_access_request(
        keys[erased], erased, "income", w3.eth.get_block("latest")["timestamp"]
    )
    with pytest.raises(DocumentErased):
        vault.read(request)
    attest = AttestationClient(w3, summary.contracts.attestation_registry, revert_decoder({}))
    income = next(
        a for a in summary.attestations if a["subject"] == erased and a["type"] == "income"
    )
    document_id = vault.document_for_attestation(income["id"])
    assert document_id is not None and vault.salt(document_id) is None
    person = SAMPLE_PEOPLE[0]
    verification = attest.verify(income["id"], person.documents()["income"], None)
    assert not verification.valid and "erased" in verification.reason
    # The bundle itself holds no personal value (it is all chain data).
    text = "".join(p.read_text() for p in bundle.iterdir()).lower()
    assert person.name.lower() not in text and person.national_id.lower() not in text
    assert scan_chain(w3, [person.name, person.national_id], w3.eth.block_number - 3).findings == []


def test_an_edited_cell_is_named_even_with_a_resealed_manifest(
    w3: Web3, run: tuple[DataSharingSummary, AuditSources], tmp_path: Path
) -> None:
    _, sources = run
    bundle = tmp_path / "audit"
    export_bundle(w3, sources, bundle)
    rows = _rows(bundle / "repayments.csv")
    rows[1]["principal"] = str(int(rows[1]["principal"]) + 1)
    _write_rows(bundle / "repayments.csv", rows)
    report = verify_bundle(w3, bundle, sources)
    assert not report.ok
    assert "repayments.csv: its SHA-256 does not match the manifest." in report.mismatches
    cell = [m for m in report.mismatches if "principal is" in m]
    assert len(cell) == 1 and cell[0].startswith("repayments.csv row 2 (tx ")
    _reseal(bundle, "repayments.csv")
    report = verify_bundle(w3, bundle, sources)
    assert report.mismatches == cell


def test_a_removed_row_is_named(
    w3: Web3, run: tuple[DataSharingSummary, AuditSources], tmp_path: Path
) -> None:
    _, sources = run
    bundle = tmp_path / "audit"
    export_bundle(w3, sources, bundle)
    rows = _rows(bundle / "defaults.csv")
    _write_rows(bundle / "defaults.csv", rows[:-1] if len(rows) > 1 else [])
    _reseal(bundle, "defaults.csv")
    report = verify_bundle(w3, bundle, sources)
    assert report.mismatches == [
        f"defaults.csv: the log {rows[-1]['log_index']} of tx {rows[-1]['tx_hash']} is on chain "
        "but missing from the file."
    ]
    # A removed credit record row is named too.
    shutil.rmtree(bundle)
    export_bundle(w3, sources, bundle)
    records = _rows(bundle / "credit_records.csv")
    _write_rows(bundle / "credit_records.csv", records[1:])
    _reseal(bundle, "credit_records.csv")
    (mismatch,) = verify_bundle(w3, bundle, sources).mismatches
    assert records[0]["borrower"] in mismatch and "no record row" in mismatch


def test_a_manifest_for_another_chain_state_is_refused(
    w3: Web3, run: tuple[DataSharingSummary, AuditSources], tmp_path: Path
) -> None:
    _, sources = run
    bundle = tmp_path / "audit"
    export_bundle(w3, sources, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["block_hash"] = "0x" + "ab" * 32
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    (mismatch,) = verify_bundle(w3, bundle, sources).mismatches
    assert "block hash" in mismatch


def test_held_repayments_failed_reports_and_the_allowlist_are_in_the_bundle(
    w3: Web3, system: LedgerDriver, tmp_path: Path
) -> None:
    """A repayment held for a blocked lender and its claim, a credit report the registry
    refused, a withdrawn restructuring and the token allowlist: rows of their own, verified."""
    s = system
    borrower = s.accounts[4]
    token = s.deploy_contract("BlocklistStablecoin", "Blocked USD", "bUSD", 6, s.admin)
    s.send(s.ledger.functions.setTokenAllowed(token.address, True))
    loan_id = s.originate(borrower, token=token)
    s.send(token.functions.setBlocked(s.admin, True))
    s.repay(loan_id, 100 * UNIT, borrower, token=token)
    s.send(s.ledger.functions.claim(token.address, s.accounts[8]))
    s.send(s.registry.functions.revokeRole(role(REPORTER_ROLE), s.ledger.address))
    s.repay(loan_id, 10 * UNIT, borrower, token=token)
    deadline = s.now() + 7 * DAY
    s.send(s.ledger.functions.proposeRestructure(loan_id, 900, 8, 30 * DAY, deadline))
    s.send(s.ledger.functions.withdrawRestructure(loan_id))
    bundle = tmp_path / "audit"
    manifest = export_bundle(w3, AuditSources(s.ledger, s.registry), bundle, s.block)
    assert manifest["format"] == 2
    held = _rows(bundle / "held_repayments.csv")
    assert [r["event"] for r in held] == ["RepaymentHeld", "Claimed", "RepaymentHeld"]
    assert held[0]["amount"] == held[1]["amount"] == str(100 * UNIT)
    assert held[1]["to"] == s.accounts[8]
    assert held[2]["claimable"] == str(10 * UNIT)  # after the claim, a new balance
    failures = _rows(bundle / "credit_report_failures.csv")
    assert {r["loanId"] for r in failures} == {str(loan_id)} and failures
    tokens = {r["token"]: r["allowed"] for r in _rows(bundle / "tokens.csv")}
    assert tokens[token.address] == tokens[s.token.address] == "true"
    events = [r["event"] for r in _rows(bundle / "restructurings.csv")]
    assert events[-2:] == ["RestructureProposed", "RestructureWithdrawn"]
    report = verify_bundle(w3, bundle, AuditSources(s.ledger, s.registry))
    assert report.ok, report.mismatches
    # An edited held amount is named, as any other cell.
    rows = _rows(bundle / "held_repayments.csv")
    rows[0]["amount"] = "1"
    _write_rows(bundle / "held_repayments.csv", rows)
    _reseal(bundle, "held_repayments.csv")
    edited = verify_bundle(w3, bundle, AuditSources(s.ledger, s.registry))
    assert any(m.startswith("held_repayments.csv row 1 (tx ") for m in edited.mismatches), (
        edited.mismatches
    )
