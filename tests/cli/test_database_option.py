"""``--db`` / ``--database``: a SQLite file, ``sqlite:///path`` or a PostgreSQL URL, also from
LOANSERVICING_DATABASE_URL; a server that cannot be reached, or a URL of another kind, is one
sentence."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from loanservicing.chain.accounts import dev_signer
from loanservicing.indexing.database import IndexDB
from tests.cli.driver import Cli
from tests.support.indexing import IndexStore

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


def test_a_follower_whose_database_session_ends_says_so_in_one_sentence(
    run: Cli, index_store: IndexStore
) -> None:
    if index_store.kind != "postgresql" or index_store.server is None:
        pytest.skip("a lost connection is a PostgreSQL server's")
    run.create(BORROWER, "1000")
    # A role of this test's own, so that ending its sessions ends nobody else's.
    role = f"lost_{secrets.token_hex(4)}"
    server = index_store.server
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN SUPERUSER")
    parts = urlsplit(str(run.db))
    url = urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rsplit('@', 1)[-1]}"))
    command = [sys.executable, "-m", "loanservicing.cli", *run.base]
    follower = subprocess.Popen(
        [*command, "index", "sync", "--follow", "--db", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # until the follower has indexed the loan
            with IndexDB(run.db) as db:
                if db.loan_count() == 1:
                    break
            assert follower.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
        _, stderr = follower.communicate(timeout=60)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"REASSIGN OWNED BY {role} TO CURRENT_USER")
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
    assert follower.returncode != 0
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr
    host = urlsplit(server).hostname
    assert lines[-1] == (
        f"Error: Lost the connection to the database at {host}:{urlsplit(server).port or 5432}: "
        "terminating connection due to administrator command."
    ), stderr
