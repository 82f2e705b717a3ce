"""One registration point: every module of loanservicing.cli imports first in a fresh
interpreter (no import cycle), the package attaches every group, and ``python -m
loanservicing.cli`` is the command."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import click
import pytest

import loanservicing.cli
from loanservicing.cli import cli

MODULES = sorted(
    f"loanservicing.cli.{m.name}"
    for m in pkgutil.iter_modules(loanservicing.cli.__path__)
    if m.name != "__main__"
)
COMMANDS = {
    "node", "deploy", "chain", "faucet", "loan", "repay", "payoff", "credit", "portfolio",
    "index", "monitor", "report", "data", "attester", "attest", "consent", "policy", "vault",
    "demo", "serve",
}  # fmt: skip


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_every_group_is_attached_once_to_the_root() -> None:
    assert set(cli.commands) == COMMANDS
    report = cli.commands["report"]
    assert isinstance(report, click.Group)
    assert set(report.commands) == {
        "delinquency", "audit", "audit-verify", "privacy-scan", "roll-rates", "vintages", "ifrs9",
        "metro2",
    }  # fmt: skip
    monitor = cli.commands["monitor"]
    assert isinstance(monitor, click.Group)
    assert set(monitor.commands) == {"run", "notices", "digest"}
    loan = cli.commands["loan"]
    assert isinstance(loan, click.Group)
    assert set(loan.commands) == {
        "create", "sign-terms", "originate", "show", "schedule", "list", "default", "assess",
        "restructure", "claim", "allow-token", "holiday", "forbear", "statement", "quote",
        "import",
    }  # fmt: skip
    restructure = loan.commands["restructure"]
    assert isinstance(restructure, click.Group)
    assert set(restructure.commands) == {"propose", "show", "accept", "withdraw"}
    holiday = loan.commands["holiday"]
    assert isinstance(holiday, click.Group)
    assert set(holiday.commands) == {"propose", "show", "accept", "withdraw"}


def test_python_dash_m_is_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "loanservicing.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: loanservicing ")
    for name in COMMANDS:
        assert f"  {name} " in result.stdout
