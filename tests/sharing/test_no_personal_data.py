"""No personal value ever reaches the chain: a scan of every transaction's calldata and every
log after a whole data-sharing run (attestations, consents, vault reads, a regulator access,
loans, repayments, an erasure) finds none of the borrowers' names, national ids, addresses,
employers or incomes, as text or as hex. A control proves the scan finds what is there."""

from __future__ import annotations

from pathlib import Path

from web3 import Web3

from loanservicing.chain.accounts import Signer, TransactionSender
from loanservicing.chain.transactions import send
from loanservicing.demo.data_sharing import (
    SAMPLE_PEOPLE,
    dev_keys,
    personal_values,
    run_data_sharing,
)
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_contract
from loanservicing.sharing.privacy_scan import scan_chain
from tests.support.data import LedgerEnv


def test_a_whole_data_sharing_run_puts_no_personal_value_on_chain(
    w3: Web3, artifacts: dict[str, ContractArtifact], ledger_env: LedgerEnv, tmp_path: Path
) -> None:
    summary = run_data_sharing(
        w3, artifacts, ledger_env.ledger, ledger_env.token, tmp_path / "vault"
    )
    assert len(summary.attestations) == 3 * len(SAMPLE_PEOPLE)
    assert len(summary.loans) == len(SAMPLE_PEOPLE)
    assert summary.erased
    story = summary.shared_with_whom()
    assert sum("was refused" in line for line in story) == 1
    assert sum("under a recorded legal basis" in line for line in story) == 1
    assert story[-1].endswith("was erased (keys and salts destroyed).")
    values = personal_values()
    assert "Marta Kowalczyk-Brennan" in values and "87,350" in values and "PL-84031207651" in values
    result = scan_chain(w3, values)
    assert result.transactions >= 35
    assert result.logs >= 50
    assert result.findings == []


def test_the_scan_finds_personal_values_in_calldata_and_logs_as_text_and_hex(
    w3: Web3, artifacts: dict[str, ContractArtifact]
) -> None:
    keys = dev_keys(2)
    owner = keys[0].address
    sender = TransactionSender(w3, Signer(keys[0], "dev account 0"), revert_decoder(artifacts))
    wallet = deploy_contract(sender, artifacts["ERC1271Wallet"], owner)
    start = w3.eth.block_number + 1
    leak = "Jean-Baptiste Okonkwo-Lefèvre".encode()
    # Calling an account without code through the wallet logs the calldata in Executed.
    send(w3, wallet.functions.execute(keys[1].address, leak), owner, revert_decoder(artifacts))
    hex_leak = ("id=" + b"FR-1870675116042".hex().upper()).encode()
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": owner, "to": keys[1].address, "data": hex_leak})
    )
    result = scan_chain(w3, ["jean-baptiste okonkwo-lefèvre", "FR-1870675116042"], start)
    found = {(f.value, f.form, f.where) for f in result.findings}
    assert found == {
        ("jean-baptiste okonkwo-lefèvre", "utf-8", "calldata"),
        ("jean-baptiste okonkwo-lefèvre", "utf-8", "log"),
        ("FR-1870675116042", "hex", "calldata"),
    }
