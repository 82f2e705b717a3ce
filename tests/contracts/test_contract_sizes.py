"""The size gate: every contract the system deploys stays well under the EIP-170 limit, and the
ledger keeps room for the features still to come (new servicer actions go into libraries)."""

from __future__ import annotations

from web3 import Web3

from loanservicing.deployment.compile import ContractArtifact
from tests.support.ledger_driver import LedgerDriver

EIP170_LIMIT = 24_576
"""The largest runtime code a contract may deploy (Anvil enforces it by default)."""
SIZE_GATE = 23_500
"""No deployed contract may come closer to the limit than this."""
LEDGER_TARGET = 23_000
"""LoanLedger keeps about 1.5 KB free under the limit (the calendar, holidays and forbearance took
the rest: new servicer actions go into linked libraries)."""

TEST_CONTRACTS = "contracts/test/"


def _deployed_contracts(artifacts: dict[str, ContractArtifact]) -> dict[str, ContractArtifact]:
    return {
        name: artifact
        for name, artifact in artifacts.items()
        if not artifact.source_path.startswith(TEST_CONTRACTS)
    }


def test_no_contract_comes_near_the_size_limit(artifacts: dict[str, ContractArtifact]) -> None:
    assert SIZE_GATE < EIP170_LIMIT
    sizes = {name: a.runtime_size for name, a in _deployed_contracts(artifacts).items()}
    assert "LoanLedger" in sizes and "LoanRestructuring" in sizes
    too_big = {name: size for name, size in sizes.items() if size > SIZE_GATE}
    assert not too_big, f"runtime code over {SIZE_GATE:,} bytes: {too_big}"


def test_ledger_leaves_room_under_the_limit(artifacts: dict[str, ContractArtifact]) -> None:
    size = artifacts["LoanLedger"].runtime_size
    assert size <= LEDGER_TARGET, (
        f"LoanLedger is {size:,} bytes ({EIP170_LIMIT - size:,} free); the target is "
        f"{LEDGER_TARGET:,}: move a rarely used path into a linked library"
    )


def test_deployed_ledger_calls_the_deployed_libraries(system: LedgerDriver, w3: Web3) -> None:
    artifact = system.artifacts["LoanLedger"]
    code = bytes(w3.eth.get_code(system.ledger.address))
    assert len(code) == artifact.runtime_size
    assert {ref.library for ref in artifact.deployed_link_references} == set(artifact.libraries)
    assert artifact.libraries, "the ledger calls its rarely used paths in linked libraries"
    for ref in artifact.deployed_link_references:
        addresses = {code[offset : offset + 20] for offset in ref.offsets}
        assert len(addresses) == 1, f"{ref.library} is linked at more than one address"
        (address,) = addresses
        library_code = w3.eth.get_code(Web3.to_checksum_address(address))
        assert len(library_code) == system.artifacts[ref.library].runtime_size
