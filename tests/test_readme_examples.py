"""The README's command examples run as they stand, in order, on a new Anvil whose clock
starts on 2026-12-01 (the dates they name assume it): every command succeeds, and every
``--json`` one prints one JSON document. Skipped: the commands that run until Ctrl-C and the
demo (its own Anvil, tested in tests/demo)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from loanservicing.chain.node import AnvilNode
from loanservicing.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
GENESIS = 1_795_996_800  # 2026-12-01T00:00:00Z


def readme_commands() -> list[tuple[dict[str, str], list[str]]]:
    """The ``$ loanservicing ...`` commands of the README's console block of examples, each
    with the environment it sets; ``&&`` splits a line into its commands."""
    text = README.read_text(encoding="utf8")
    start = text.index("A lender's first day, command by command")
    block = text[
        text.index("```console\n", start) + 11 : text.index(
            "```\n", text.index("```console\n", start) + 11
        )
    ]
    lines: list[str] = []
    for raw in block.splitlines():
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + " " + raw.strip()
        elif raw.startswith("$ "):
            lines.append(raw[2:])
    commands = []
    for line in lines:
        line = re.sub(r"\s+#.*$", "", line)
        for part in line.split(" && "):
            words = shlex.split(part)
            env = {}
            while "=" in words[0]:
                name, value = words.pop(0).split("=", 1)
                env[name] = value
            assert words[0] == "loanservicing", part
            commands.append((env, words[1:]))
    return commands


def _runs_in_the_test(args: list[str]) -> bool:
    if args[0] in ("node", "demo") or "--follow" in args:
        return False
    return args[:2] != ["monitor", "run"] or "--once" in args


def test_the_readme_examples_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = readme_commands()
    assert len(commands) > 40
    monkeypatch.chdir(tmp_path)
    (tmp_path / "income.json").write_text('{"employer": "Acme Ltd", "annual_income": "84000 USD"}')
    runner = CliRunner(mix_stderr=False)
    with AnvilNode(extra_args=["--timestamp", str(GENESIS)]) as node:
        for env, args in commands:
            if not _runs_in_the_test(args):
                continue
            result = runner.invoke(cli, args, env={"LOANSERVICING_RPC_URL": node.rpc_url, **env})
            assert result.exit_code == 0, (args, result.stderr, result.stdout)
            assert "Traceback" not in result.stderr
            if "--json" in args:
                json.loads(result.stdout)


def test_the_readme_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    text = README.read_text(encoding="utf8")
    start = text.index("```python\n", text.index("### From Python")) + len("```python\n")
    code = text[start : text.index("```\n", start)]
    exec(compile(code, "README.md", "exec"), {})  # the README's own example
    assert capsys.readouterr().out.strip() == "1580170000"  # 1,580.17 a month, in units
