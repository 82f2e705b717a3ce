"""The Slither gate's verdicts (scripts/slither_gate.py), on results shaped like Slither's JSON
output; `make slither` runs the gate on the real contracts."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "slither_gate", ROOT / "scripts" / "slither_gate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["slither_gate"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gate = _load_gate()


def _contract(name: str) -> dict[str, Any]:
    return {"type": "contract", "name": name, "source_mapping": {"lines": [1, 2, 3]}}


def _function(contract: str, name: str, first_line: int) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "source_mapping": {
            "filename_relative": f"contracts/{contract}.sol",
            "lines": [first_line, first_line + 1],
        },
        "type_specific_fields": {"parent": _contract(contract)},
    }


def _node(function: dict[str, Any], text: str, line: int) -> dict[str, Any]:
    return {
        "type": "node",
        "name": text,
        "source_mapping": {
            "filename_relative": function["source_mapping"]["filename_relative"],
            "lines": [line],
        },
        "type_specific_fields": {"parent": function},
    }


def _result(check: str, impact: str, *elements: dict[str, Any]) -> dict[str, Any]:
    return {"check": check, "impact": impact, "description": "", "elements": list(elements)}


REPAY = _function("LoanLedger", "_repay", 200)
EQUALITY = _result("incorrect-equality", "Medium", REPAY, _node(REPAY, "outstanding  ==\n 0", 216))
SECOND_EQUALITY = _result("incorrect-equality", "Medium", REPAY, _node(REPAY, "amount == due", 210))
LOCAL = _result(
    "uninitialized-local",
    "Medium",
    {
        "type": "variable",
        "name": "due",
        "source_mapping": {"filename_relative": "contracts/LoanLedger.sol", "lines": [231]},
        "type_specific_fields": {"parent": _function("LoanLedger", "_currentDue", 225)},
    },
)
STATE = _result(
    "uninitialized-state",
    "High",
    {
        "type": "variable",
        "name": "_delinquent",
        "source_mapping": {"filename_relative": "contracts/CreditRegistry.sol", "lines": [37]},
        "type_specific_fields": {"parent": _contract("CreditRegistry")},
    },
)
TIMESTAMP = _result("timestamp", "Low", REPAY)
COMPLEXITY = _result("cyclomatic-complexity", "Informational", REPAY)


def test_a_finding_is_named_by_detector_and_place_with_its_statement() -> None:
    finding = gate.to_finding(EQUALITY)
    assert finding.key == "incorrect-equality:LoanLedger._repay"
    assert finding.location == "contracts/LoanLedger.sol:216"
    assert finding.line() == (
        "incorrect-equality (Medium) LoanLedger._repay at contracts/LoanLedger.sol:216: "
        "outstanding == 0"
    )
    assert gate.to_finding(LOCAL).key == "uninitialized-local:LoanLedger._currentDue.due"
    assert gate.to_finding(STATE).key == "uninitialized-state:CreditRegistry._delinquent"
    assert gate.to_finding(STATE).location == "contracts/CreditRegistry.sol:37"


def test_untriaged_high_and_medium_findings_fail_and_low_ones_are_only_counted() -> None:
    verdict = gate.judge([EQUALITY, STATE, TIMESTAMP, COMPLEXITY], {})
    assert not verdict.passed
    assert [f.key for f in verdict.untriaged] == [
        "incorrect-equality:LoanLedger._repay",
        "uninitialized-state:CreditRegistry._delinquent",
    ]
    assert verdict.counts == {"Low": 1, "Informational": 1}
    assert verdict.stale == ()


def test_one_entry_covers_every_finding_of_its_detector_at_that_place() -> None:
    triage = {
        "incorrect-equality:LoanLedger._repay": "exact ledger arithmetic",
        "uninitialized-local:LoanLedger._currentDue.due": "zero on purpose",
    }
    verdict = gate.judge([EQUALITY, SECOND_EQUALITY, LOCAL, TIMESTAMP], triage)
    assert verdict.passed
    assert len(verdict.triaged) == 3
    assert verdict.untriaged == ()


def test_a_triage_entry_that_matches_no_finding_is_stale() -> None:
    triage = {
        "incorrect-equality:LoanLedger._repay": "exact ledger arithmetic",
        "unused-return:LoanLedger.amountDue": "the function is gone",
        # A Low finding is never gated, so an entry for it is stale too.
        "timestamp:LoanLedger._repay": "not needed",
    }
    verdict = gate.judge([EQUALITY, TIMESTAMP], triage)
    assert not verdict.passed
    assert verdict.untriaged == ()
    assert verdict.stale == ("timestamp:LoanLedger._repay", "unused-return:LoanLedger.amountDue")


def test_the_triage_file_needs_a_one_line_reason_per_detector_and_place(tmp_path: Path) -> None:
    path = tmp_path / "triage.json"
    path.write_text(json.dumps({"incorrect-equality:LoanLedger._repay": "why"}), encoding="utf8")
    assert gate.load_triage(path) == {"incorrect-equality:LoanLedger._repay": "why"}
    bad_files: list[object] = [
        {"incorrect-equality": "no place"},
        {"a:B.c": ""},
        {"a:B.c": "two\nlines"},
        ["not", "an", "object"],
    ]
    for bad in bad_files:
        path.write_text(json.dumps(bad), encoding="utf8")
        with pytest.raises(ValueError):
            gate.load_triage(path)


def test_the_repository_triage_file_names_real_detectors() -> None:
    from slither.detectors import all_detectors

    detectors = {
        getattr(cls, "ARGUMENT", None)
        for cls in vars(all_detectors).values()
        if isinstance(cls, type)
    }
    triage = gate.load_triage(ROOT / "slither-triage.json")
    assert triage
    for key in triage:
        detector, place = key.split(":", 1)
        assert detector in detectors, key
        assert place and " " not in place, key


def test_slither_compiles_every_contract_with_the_package_settings() -> None:
    from loanservicing.deployment.compile import compiler_settings

    standard_json = gate.standard_json_input(ROOT)
    sources = set(standard_json["sources"])
    assert {"contracts/CreditRegistry.sol", "contracts/LoanLedger.sol"} <= sources
    assert any(source.startswith("contracts/libraries/") for source in sources)
    assert any(source.startswith("contracts/test/") for source in sources)
    expected = compiler_settings()
    expected.pop("outputSelection")
    assert standard_json["settings"] == expected
