"""Slither gate: ``python scripts/slither_gate.py`` (``make slither``).

Runs Slither over every ``contracts/**/*.sol`` compiled in one standard-JSON job with the
project's compiler (the pinned solc, or its solc-js facade) and the settings of
``loanservicing.deployment.compile`` (optimizer, runs, EVM version, the OpenZeppelin remapping).
Findings in the test doubles (``contracts/test/``) and in ``node_modules`` are filtered out;
those files still compile.

It exits 1 when

* a finding of impact High or Medium is not triaged in ``slither-triage.json``, or
* a triage entry matches no High or Medium finding any more (stale: remove it),

printing one line for each. Low, Informational and Optimization findings are counted only.
The whole Slither report is kept in ``.build/slither/report.json``. Exit 2: Slither did not run.

Slither is run with address-space randomisation off (``setarch -R``) and ``PYTHONHASHSEED=0``:
otherwise its taint analysis reports some findings in one run and not the next.

``slither-triage.json`` maps ``"<detector>:<where>"`` to a one-line reason, where ``<where>`` is
``Contract.function`` (``Contract.function.variable`` for a local variable, ``Contract`` or
``Contract.name`` for contract-level findings): no line numbers, so an entry survives edits
elsewhere in the file. One entry covers every finding of its detector at that place.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loanservicing.deployment.compile import CONTRACTS_DIR, compiler_settings
from loanservicing.deployment.solc import solc_binary

ROOT = Path(__file__).resolve().parent.parent
TRIAGE_FILE = ROOT / "slither-triage.json"
WORK_DIR = ROOT / ".build" / "slither"
GATED_IMPACTS = ("High", "Medium")
COUNTED_IMPACTS = ("Low", "Informational", "Optimization")
FILTER_PATHS = "contracts/test/|node_modules/"


@dataclass(frozen=True)
class Finding:
    """One Slither detector result, reduced to what the gate reports."""

    detector: str
    impact: str
    where: str
    """``Contract.function`` (see the module docstring): the stable part of the triage key."""
    location: str
    """``path:line`` of the most specific element (the flagged statement when there is one)."""
    code: str
    """The flagged statement or declaration, as Slither names it."""

    @property
    def key(self) -> str:
        return f"{self.detector}:{self.where}"

    def line(self) -> str:
        return f"{self.detector} ({self.impact}) {self.where} at {self.location}: {self.code}"


@dataclass(frozen=True)
class Verdict:
    untriaged: tuple[Finding, ...]
    stale: tuple[str, ...]
    """Triage keys that match no gated finding."""
    triaged: tuple[Finding, ...]
    counts: Mapping[str, int]
    """Findings of the impacts that are only counted, by impact."""

    @property
    def passed(self) -> bool:
        return not self.untriaged and not self.stale


def _where(element: Mapping[str, Any]) -> str:
    """Contract.function (or Contract.function.variable, Contract, Contract.name) of an element."""
    kind = element.get("type", "")
    name = str(element.get("name", ""))
    parent = element.get("type_specific_fields", {}).get("parent")
    if kind == "contract":
        return name
    if kind == "node":
        return _where(parent) if parent else name
    if parent:
        return f"{_where(parent)}.{name}"
    return name


def to_finding(result: Mapping[str, Any]) -> Finding:
    """The gate's view of one entry of Slither's ``results.detectors``."""
    elements: Sequence[Mapping[str, Any]] = result.get("elements", [])
    if not elements:
        return Finding(
            detector=str(result["check"]),
            impact=str(result["impact"]),
            where="(no element)",
            location="?",
            code=str(result.get("description", "")).strip().splitlines()[0],
        )
    nodes = [e for e in elements if e.get("type") == "node"]
    specific = nodes[0] if nodes else elements[0]
    mapping = specific.get("source_mapping", {})
    lines = mapping.get("lines") or ["?"]
    return Finding(
        detector=str(result["check"]),
        impact=str(result["impact"]),
        where=_where(elements[0]),
        location=f"{mapping.get('filename_relative', '?')}:{lines[0]}",
        code=" ".join(str(specific.get("name", "")).split()),
    )


def judge(results: Sequence[Mapping[str, Any]], triage: Mapping[str, str]) -> Verdict:
    """Splits Slither's detector results into untriaged, triaged and counted ones."""
    findings = [to_finding(result) for result in results]
    gated = [f for f in findings if f.impact in GATED_IMPACTS]
    matched = {f.key for f in gated}
    return Verdict(
        untriaged=tuple(f for f in gated if f.key not in triage),
        stale=tuple(sorted(key for key in triage if key not in matched)),
        triaged=tuple(f for f in gated if f.key in triage),
        counts=Counter(f.impact for f in findings if f.impact not in GATED_IMPACTS),
    )


def load_triage(path: Path) -> dict[str, str]:
    """``slither-triage.json``: ``{"<detector>:<where>": "<one-line reason>"}``."""
    data = json.loads(path.read_text(encoding="utf8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} must hold one JSON object")
    triage: dict[str, str] = {}
    for key, reason in data.items():
        if ":" not in key:
            raise ValueError(f"{path.name}: {key!r} is not '<detector>:<Contract.function>'")
        if not isinstance(reason, str) or not reason.strip() or "\n" in reason:
            raise ValueError(f"{path.name}: {key!r} needs a one-line reason")
        triage[key] = reason
    return triage


def standard_json_input(root: Path) -> dict[str, Any]:
    """Every contract source in one compilation, with the package's compiler settings; the
    output selection is left to crytic-compile (Slither needs the ASTs)."""
    settings = compiler_settings()
    settings.pop("outputSelection")
    sources = sorted((root / CONTRACTS_DIR).rglob("*.sol"))
    return {
        "language": "Solidity",
        "sources": {
            path.relative_to(root).as_posix(): {"urls": [path.relative_to(root).as_posix()]}
            for path in sources
        },
        "settings": settings,
    }


def _no_aslr_prefix() -> list[str]:
    """``setarch <machine> -R`` where the machine lets a process turn off address-space
    randomisation for its child; nothing elsewhere (the run is then not repeatable)."""
    setarch = shutil.which("setarch")
    if setarch is None:
        return []
    prefix = [setarch, platform.machine(), "-R"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        print("slither gate: setarch -R is not permitted here; findings may vary between runs")
        return []
    return prefix


def run_slither(root: Path, work_dir: Path) -> list[dict[str, Any]]:
    """Slither's detector results (its JSON output's ``results.detectors``)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    input_path = work_dir / "input.json"
    input_path.write_text(json.dumps(standard_json_input(root), indent=2) + "\n", encoding="utf8")
    slither = Path(sys.executable).with_name("slither")
    command = [
        str(slither),
        input_path.relative_to(root).as_posix(),
        "--compile-force-framework",
        "Solc-json",
        "--solc",
        str(solc_binary()),
        "--filter-paths",
        FILTER_PATHS,
        "--json",
        "-",
        "--fail-none",
        "--disable-color",
    ]
    # crytic-compile finds foundry.toml and asks `forge config` for remappings, so the
    # checkout's pinned forge goes first on PATH.
    env = dict(os.environ)
    env["PATH"] = f"{root / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    # Slither's data-dependency analysis iterates sets of objects hashed by address, so some
    # findings (a taint through a library call) come and go between runs of the same code.
    # With address-space randomisation off and a fixed hash seed the run is repeatable.
    env["PYTHONHASHSEED"] = "0"
    command = [*_no_aslr_prefix(), *command]
    completed = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, check=False
    )
    (work_dir / "report.json").write_text(completed.stdout, encoding="utf8")
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        report = None
    if not isinstance(report, dict) or not report.get("success"):
        error = report.get("error") if isinstance(report, dict) else None
        sys.stderr.write(completed.stderr)
        raise RuntimeError(f"Slither failed (exit {completed.returncode}): {error or 'no report'}")
    detectors: list[dict[str, Any]] = report.get("results", {}).get("detectors", [])
    return detectors


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--triage", type=Path, default=TRIAGE_FILE, help="triage file")
    args = parser.parse_args(argv)
    try:
        triage = load_triage(args.triage)
        results = run_slither(ROOT, WORK_DIR)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"slither gate: {exc}", file=sys.stderr)
        return 2
    verdict = judge(results, triage)
    for finding in verdict.untriaged:
        print(f"UNTRIAGED {finding.line()}")
    for key in verdict.stale:
        print(f"STALE triage entry {key}: it matches no High or Medium finding; remove it")
    counted = ", ".join(f"{verdict.counts.get(impact, 0)} {impact}" for impact in COUNTED_IMPACTS)
    print(
        f"slither gate: {len(verdict.untriaged) + len(verdict.triaged)} High/Medium findings "
        f"({len(verdict.triaged)} triaged in {args.triage.name}, {len(verdict.untriaged)} "
        f"not), {len(verdict.stale)} stale entries; also {counted} (not gated)"
    )
    if not verdict.passed:
        print("slither gate: FAILED (fix the code, or triage with a true one-line reason)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
