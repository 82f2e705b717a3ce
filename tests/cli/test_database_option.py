"""``--db`` / ``--database``: a SQLite file, ``sqlite:///path`` or a PostgreSQL URL, also from
LOANSERVICING_DATABASE_URL; a server that cannot be reached, or a URL of another kind, is one
sentence."""

from __future__ import annotations

from pathlib import Path

from loanservicing.chain.accounts import dev_signer
from loanservicing.indexing.database import IndexDB
from tests.cli.driver import Cli

BORROWER = dev_signer(1).address


def test_the_database_url_comes_from_the_option_or_the_environment(run: Cli) -> None:
    run.create(BORROWER, "1000")
    from_env = run.json("index", "sync", env={"LOANSERVICING_DATABASE_URL": str(run.db)})
    assert from_env["loans"] == 1 and from_env["db"] == str(run.db)
    again = run.json("index", "sync", "--database", str(run.db))
    assert again["loans"] == 1 and again["logs"] == 0  # the same database, nothing new
    with IndexDB(run.db) as db:
        assert db.loan_count() == 1


def test_a_sqlite_url_names_a_file(run: Cli, tmp_path: Path) -> None:
    run.create(BORROWER, "1000")
    path = tmp_path / "by-url.db"
    assert run.json("index", "sync", "--database", f"sqlite:///{path}")["loans"] == 1
    with IndexDB(path) as db:
        assert db.loan_count() == 1


def test_an_unreachable_server_is_one_sentence(run: Cli) -> None:
    line = run.fails(
        "index", "sync", "--database", "postgresql://127.0.0.1:1/x", match="cannot be used"
    )
    assert line == (
        "Error: The PostgreSQL database postgresql://127.0.0.1:1/x cannot be used (Connection "
        "refused); check that its server runs and that the URL names it."
    )
    run.fails("monitor", "notices", "--database", "postgresql://127.0.0.1:1/x", match="127.0.0.1:1")
    run.fails(
        "report", "delinquency", "--db", "postgres://someone:secret@127.0.0.1:1/x",
        match="postgres://someone:***@127.0.0.1:1/x cannot be used",
    )  # fmt: skip


def test_a_url_of_another_kind_is_one_sentence(run: Cli) -> None:
    run.fails("index", "sync", "--db", "mysql://127.0.0.1/x", match="is not a database this")
