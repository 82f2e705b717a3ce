"""The CLI tests' driver: ``loanservicing`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from loanservicing.chain.accounts import dev_signer
from loanservicing.cli import cli

LENDER = dev_signer(0).address


class Cli:
    """``loanservicing --rpc-url URL --deployment FILE ...``; stdout and stderr apart."""

    def __init__(self, rpc_url: str, deployment_file: Path, db: Path | str) -> None:
        self.url = rpc_url
        self.deployment_file = deployment_file
        self.db = db
        self.runner = CliRunner(mix_stderr=False)

    @property
    def base(self) -> list[str]:
        return ["--rpc-url", self.url, "--deployment", str(self.deployment_file)]

    def raw(
        self, *args: str, env: dict[str, str] | None = None, input: str | None = None
    ) -> Result:
        return self.runner.invoke(cli, [*self.base, *args], env=env, input=input)

    def json(self, *args: str, **kwargs: Any) -> Any:
        result = self.raw(*args, "--json", **kwargs)
        assert result.exit_code == 0, result.stderr + result.stdout
        return json.loads(result.stdout)

    def fails(self, *args: str, match: str, **kwargs: Any) -> str:
        result = self.raw(*args, **kwargs)
        assert result.exit_code != 0, result.stdout
        assert "Traceback" not in result.stderr + result.stdout
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert match in lines[0], lines[0]
        assert result.stdout == ""
        return lines[0]

    def create(self, borrower: str, principal: str = "10000", *extra: str) -> int:
        """Fund the lender and originate a 12 % loan of 12 monthly installments."""
        self.json("faucet", LENDER, principal)
        document = self.json(
            "loan", "create", "--borrower", borrower, "--principal", principal, "--apr", "12",
            "--installments", "12", "--period", "30d", *extra,
        )  # fmt: skip
        return int(document["loan_id"])
