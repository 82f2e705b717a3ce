"""forge (foundry.toml, the forge suites' build) compiles the contracts to the same runtime code
as the package's own compile path (loanservicing.deployment.compile), which deploys them.

The two builds differ in their metadata: forge's names other remappings, compiles each source
with only what it imports, and so hashes to another value in the CBOR tail that solc appends
to the runtime code. The package's build keeps its default metadata (it is what gets deployed
and verified), so instead of switching the hash off on one side the test strips the CBOR tail
from both codes (its length is in the code's last two bytes) and compares the rest, byte for
byte, library placeholders included.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from loanservicing.deployment.compile import ContractArtifact, compile_contracts
from loanservicing.deployment.solc import solc_binary

ROOT = Path(__file__).resolve().parents[2]
FORGE = ROOT / "node_modules" / ".bin" / "forge"
FORGE_OUT = ROOT / ".build" / "forge" / "out"
"""foundry.toml's `out`: the artifacts `make forge-test` then reuses."""
NAMED = ("LoanLedger", "CreditRegistry")
TEST_DOUBLES = "contracts/test/"
SOLC_METADATA_KEY = "64736f6c6343"
"""CBOR for the text key "solc" followed by a 3-byte string: the compiler version entry."""


def strip_metadata(code: str) -> str:
    """Runtime code (hex, ``0x`` optional) without solc's CBOR metadata tail."""
    raw = code.removeprefix("0x").lower()
    length = int(raw[-4:], 16)
    body, tail = raw[: -2 * (length + 2)], raw[-2 * (length + 2) : -4]
    assert SOLC_METADATA_KEY in tail, f"no solc metadata at the end of the code: …{raw[-120:]}"
    return body


def forge_build() -> None:
    """The contracts only (the forge suites are `make forge-test`'s concern)."""
    completed = subprocess.run(
        [
            str(FORGE),
            "build",
            "--root",
            str(ROOT),
            "--use",
            str(solc_binary()),
            "--offline",
            "--skip",
            "test",
            "--skip",
            "script",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, f"forge build failed:\n{completed.stdout}{completed.stderr}"


def forge_deployed_code(artifact: ContractArtifact) -> str:
    """The runtime code forge built for the contract `artifact` names (same source unit)."""
    target = {artifact.source_path: artifact.name}
    for path in sorted(FORGE_OUT.rglob(f"{artifact.name}.json")):
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf8"))
        if data.get("metadata", {}).get("settings", {}).get("compilationTarget") == target:
            return str(data["deployedBytecode"]["object"])
    raise AssertionError(f"forge wrote no artifact for {artifact.source_path}:{artifact.name}")


def test_forge_builds_the_deployed_runtime_code() -> None:
    package = compile_contracts(ROOT)
    forge_build()
    deployed = {
        name: artifact
        for name, artifact in package.items()
        if artifact.deployed_bytecode != "0x" and not artifact.source_path.startswith(TEST_DOUBLES)
    }
    assert set(NAMED) <= set(deployed), sorted(deployed)
    differing = [
        name
        for name, artifact in sorted(deployed.items())
        if strip_metadata(forge_deployed_code(artifact))
        != strip_metadata(artifact.deployed_bytecode)
    ]
    assert not differing, f"forge and the package build different runtime code for {differing}"
