from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import solcx

from loanservicing.deployment.compile import (
    ARTIFACTS_DIR,
    ContractArtifact,
    compile_contracts,
    load_artifact,
)
from loanservicing.errors import CompilationError, LoanServicingError
from loanservicing.paths import REPO_ROOT

TOKEN_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IGreeter} from "./interfaces/IGreeter.sol";

contract TestToken is ERC20, IGreeter {
    constructor() ERC20("Test", "TST") {
        _mint(msg.sender, 1_000_000e18);
    }

    function greet() external pure returns (string memory) {
        uint256 unused; // triggers an "unused local variable" warning
        return "hello";
    }
}
"""

GREETER_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IGreeter {
    function greet() external view returns (string memory);
}
"""


def _make_project(root: Path) -> Path:
    (root / "contracts" / "interfaces").mkdir(parents=True)
    (root / "contracts" / "TestToken.sol").write_text(TOKEN_SOURCE)
    (root / "contracts" / "interfaces" / "IGreeter.sol").write_text(GREETER_SOURCE)
    (root / "node_modules").symlink_to(REPO_ROOT / "node_modules")
    return root


class CountingCompiler:
    def __init__(self) -> None:
        self.calls = 0
        self._real = solcx.compile_standard

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        result: dict[str, Any] = self._real(*args, **kwargs)
        return result


@pytest.fixture
def counting_compiler(monkeypatch: pytest.MonkeyPatch) -> CountingCompiler:
    counter = CountingCompiler()
    monkeypatch.setattr(solcx, "compile_standard", counter)
    return counter


def test_compiles_project_with_openzeppelin_import_and_caches(
    tmp_path: Path, counting_compiler: CountingCompiler, caplog: pytest.LogCaptureFixture
) -> None:
    root = _make_project(tmp_path)

    with caplog.at_level(logging.WARNING, logger="loanservicing.deployment.compile"):
        artifacts = compile_contracts(root)

    assert counting_compiler.calls == 1
    assert set(artifacts) == {"TestToken", "IGreeter"}  # no OpenZeppelin artifacts
    token = artifacts["TestToken"]
    assert token.source_path == "contracts/TestToken.sol"
    assert artifacts["IGreeter"].source_path == "contracts/interfaces/IGreeter.sol"
    functions = {item["name"] for item in token.abi if item["type"] == "function"}
    assert {"transfer", "balanceOf", "greet"} <= functions
    assert token.bytecode.startswith("0x60") and len(token.bytecode) > 1000
    assert token.deployed_bytecode.startswith("0x") and len(token.deployed_bytecode) > 1000
    assert artifacts["IGreeter"].bytecode == "0x"
    assert any("Unused local variable" in r.getMessage() for r in caplog.records)

    stored = json.loads((root / ARTIFACTS_DIR / "TestToken.json").read_text())
    assert ContractArtifact.from_json(stored) == token
    assert (root / ARTIFACTS_DIR / ".hash").is_file()

    assert compile_contracts(root) == artifacts
    assert load_artifact("TestToken", root) == token
    assert counting_compiler.calls == 1, "unchanged sources must not run the compiler"

    (root / "contracts" / "interfaces" / "IGreeter.sol").write_text(GREETER_SOURCE + "\n")
    assert compile_contracts(root)["TestToken"].abi == token.abi
    assert counting_compiler.calls == 2, "a changed source must run the compiler again"


def test_syntax_error_raises_compilation_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "Broken.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract Broken { uint x }\n"
    )

    with pytest.raises(CompilationError, match=r"contracts/Broken\.sol") as caught:
        compile_contracts(tmp_path)

    assert isinstance(caught.value, LoanServicingError)
    assert "ParserError" in str(caught.value)
    assert not (tmp_path / ARTIFACTS_DIR / ".hash").exists()


def test_project_without_contracts_compiles_to_nothing(
    tmp_path: Path, counting_compiler: CountingCompiler
) -> None:
    assert compile_contracts(tmp_path) == {}
    assert counting_compiler.calls == 0


def test_load_artifact_of_unknown_contract_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(CompilationError, match="No compiled contract is named Missing"):
        load_artifact("Missing", tmp_path)
