"""The loan, repay, payoff, credit, portfolio, deploy, faucet and chain commands through
CliRunner against the session Anvil (each test reverted)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account
from web3 import Web3

from loanservicing.chain.accounts import dev_signer
from loanservicing.cli import cli
from loanservicing.deployment.manifest import Deployment
from loanservicing.ledger.schedule import DAY
from tests.cli.driver import Cli

LENDER = dev_signer(0).address
BORROWER = dev_signer(1).address
OUTSIDER = dev_signer(3).address
KEY = "0x" + "42" * 32


def _create(run: Cli, *extra: str, borrower: str = BORROWER, principal: str = "10000") -> int:
    return run.create(borrower, principal, *extra)


def test_create_show_schedule_repay_payoff_list_credit(run: Cli) -> None:
    loan_id = _create(run, "--schedule", "equal-principal", "--grace", "5d")
    shown = run.json("loan", "show", str(loan_id))
    for key in (
        "loan_id", "borrower", "lender", "token", "decimals", "status", "principal",
        "principal_outstanding", "days_past_due", "next_due_date", "next_due_timestamp",
        "next_due_amount", "installments_total", "installments_paid",
    ):  # fmt: skip
        assert key in shown
    assert shown["status"] == "active"
    assert shown["principal"] == 10_000 * 10**6
    assert shown["decimals"] == 6
    assert shown["schedule"] == "equal-principal"
    assert shown["next_due_date"].endswith("Z")
    schedule = run.json("loan", "schedule", str(loan_id))
    rows = schedule["installments"]
    assert len(rows) == 12 and schedule["decimals"] == 6
    assert rows[0]["principal"] == 833_330_000  # 10,000 / 12 in whole cents (the default)
    assert all(r["total"] % 10_000 == 0 for r in rows[:-1])  # every installment in cents
    assert sum(r["principal"] for r in rows) == 10_000 * 10**6  # the last absorbs the rest
    assert rows[0]["total"] == shown["next_due_amount"]
    assert {"number", "due_date", "due_timestamp", "due_date_local", "days", "principal",
            "interest", "total", "paid", "status"} <= rows[0].keys()  # fmt: skip

    run.json("faucet", BORROWER, "500")
    first_total = rows[0]["total"]
    amount = f"{first_total // 10**6}.{first_total % 10**6:06d}"
    paid = run.json("repay", str(loan_id), amount, "--account", "1")
    assert paid["allocated"]["interest"] == rows[0]["interest"]
    assert paid["allocated"]["principal"] == rows[0]["principal"]
    assert paid["allocated"]["fees"] == paid["allocated"]["penalty"] == 0
    assert paid["status"] == "active"
    assert paid["principal_outstanding"] == 10_000 * 10**6 - rows[0]["principal"]
    assert paid["tx_hash"].startswith("0x") and paid["gas_used"] > 0

    quote = run.json("payoff", str(loan_id))
    assert quote["decimals"] == 6
    # To the day: installment 1's interest was paid ahead of the days it covers, so what was
    # not yet earned is credited back.
    assert quote["interest_rebate"] > 0 and quote["accrued_interest"] == 0
    assert quote["amount"] == (
        quote["fees"] + quote["penalty"] + quote["interest"] + quote["principal"]
        + quote["accrued_interest"] + quote["current_principal"] + quote["remaining_principal"]
        - quote["interest_rebate"]
    ) == paid["principal_outstanding"] - quote["interest_rebate"]  # fmt: skip
    assert run.json("loan", "show", str(loan_id))["interest_rebate"] == quote["interest_rebate"]
    listed = run.json("loan", "list", "--borrower", BORROWER)
    assert [loan["loan_id"] for loan in listed["loans"]] == [loan_id]
    assert run.json("loan", "list", "--status", "closed")["count"] == 0
    record = run.json("credit", "show", BORROWER)
    assert record["loans_opened"] == 1 and record["paid_on_time"] == 1
    assert record["total_repaid"] == first_total * 10**12

    summary = run.json("portfolio")
    assert summary["loans"] == 1 and summary["by_status"]["active"] == 1
    assert summary["collected"] == first_total
    assert summary["principal_outstanding"] == paid["principal_outstanding"]

    readable = run.raw("loan", "show", str(loan_id))
    assert readable.exit_code == 0 and "active" in readable.stdout
    assert run.raw("loan", "schedule", str(loan_id)).exit_code == 0
    assert run.raw("loan", "list").exit_code == 0
    assert run.raw("payoff", str(loan_id)).exit_code == 0
    assert run.raw("credit", "show", BORROWER).exit_code == 0
    assert "PAR30" in run.raw("portfolio").stdout


def test_time_travel_default_and_restructure(run: Cli) -> None:
    doomed = _create(run, "--default-after", "30d")
    rescued = _create(run)
    before = run.json("chain", "time")
    advanced = run.json("chain", "advance", "65d")
    assert advanced["timestamp"] >= before["timestamp"] + 65 * DAY
    assert advanced["date"].endswith("Z")
    shown = run.json("loan", "show", str(doomed))
    assert shown["days_past_due"] in (35, 36)  # 65 days later, plus the seconds blocks took
    assessed = run.json("loan", "assess", str(doomed))
    assert assessed["delinquency_bucket"] == 2
    defaulted = run.json("loan", "default", str(doomed))
    assert defaulted["status"] == "defaulted"
    assert run.json("credit", "show", BORROWER)["defaults"] == 1

    proposed = run.json(
        "loan", "restructure", "propose", str(rescued), "--apr", "6.5",
        "--installments", "24", "--period", "30d",
    )  # fmt: skip
    assert proposed["apr_bps"] == 650
    accepted = run.json("loan", "restructure", "accept", str(rescued), "--account", "1")
    assert accepted["days_past_due"] == 0
    assert accepted["installments_total"] == 26
    schedule = run.json("loan", "schedule", str(rescued))["installments"]
    assert [r["status"] for r in schedule[:2]] == ["settled", "settled"]
    assert schedule[2]["status"] == "due"


def test_deploy_writes_reuses_and_fresh(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "deployments" / "new.json"
    run.deployment_file = path
    first = run.json("deploy")
    assert first["reused"] is False and path.exists()
    assert set(first) >= {"chain_id", "ledger", "credit_registry", "token", "block"}
    assert json.loads(path.read_text())["ledger"]["address"] == first["ledger"]
    again = run.json("deploy")
    assert again["reused"] is True and again["ledger"] == first["ledger"]
    fresh = run.json("deploy", "--fresh")
    assert fresh["reused"] is False and fresh["ledger"] != first["ledger"]
    assert json.loads(path.read_text())["ledger"]["address"] == fresh["ledger"]


def test_keystore_account(run: Cli, tmp_path: Path, w3: Web3) -> None:
    keyfile = tmp_path / "key.json"
    keyfile.write_text(json.dumps(Account.encrypt(KEY, "pw", iterations=2)))
    address = Account.from_key(KEY).address
    w3.provider.make_request("anvil_setBalance", [address, hex(10**20)])  # type: ignore[arg-type]
    run.deployment_file = tmp_path / "d.json"
    result = run.raw("--keystore", str(keyfile), "deploy", "--json", input="pw\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["deployer"] == address
    wrong = run.raw("--keystore", str(keyfile), "deploy", "--fresh", input="nope\n")
    assert wrong.exit_code == 1 and "wrong password" in wrong.stderr
    env = {"LOANSERVICING_KEYSTORE_PASSWORD": "pw"}
    assert run.json("--keystore", str(keyfile), "deploy", "--fresh", env=env)["deployer"] == address


def test_private_key_from_env_is_never_printed(run: Cli, w3: Web3) -> None:
    address = Account.from_key(KEY).address
    w3.provider.make_request("anvil_setBalance", [address, hex(10**20)])  # type: ignore[arg-type]
    env = {"MY_LENDER_KEY": KEY}
    run.json("faucet", address, "100")
    for args in (
        ("--private-key-env", "MY_LENDER_KEY", "-vv", "loan", "create", "--borrower", BORROWER,
         "--principal", "100", "--apr", "5", "--installments", "3", "--period", "30d"),
        ("--private-key-env", "MY_LENDER_KEY", "-vv", "repay", "1", "5"),
        ("--private-key-env", "MY_LENDER_KEY", "-vv", "--json", "faucet", address, "1"),
    ):  # fmt: skip
        result = run.raw(*args, env=env)
        output = result.stdout + result.stderr
        assert KEY[2:] not in output and KEY[2:].upper() not in output
    bad = run.raw("--private-key-env", "MY_LENDER_KEY", "repay", "1", "5", env={
        "MY_LENDER_KEY": "0x1234" + KEY[6:-2]})  # fmt: skip
    assert bad.exit_code == 1 and KEY[6:-2] not in bad.stderr


def _nonce(w3: Web3, address: str) -> int:
    return int(w3.eth.get_transaction_count(Web3.to_checksum_address(address)))


def test_bad_input_is_one_sentence_and_sends_nothing(run: Cli, w3: Web3) -> None:
    loan_id = _create(run)
    nonces = {a: _nonce(w3, a) for a in (LENDER, BORROWER, OUTSIDER)}
    run.fails("repay", "999", "1", match="There is no loan 999; the ledger holds 1 loans.")
    run.fails("loan", "show", "0", match="Loan ids start at 1")
    run.fails("loan", "show", "77", match="no loan 77")
    run.fails("credit", "show", "0x1234", match="is not an Ethereum address")
    run.fails("credit", "show", BORROWER.lower(), match=f"not checksummed; write it as {BORROWER}")
    create = ("loan", "create", "--borrower", BORROWER, "--apr", "12", "--installments", "12",
              "--period", "30d")  # fmt: skip
    run.fails(*create, "--principal", "-5", match="negative")
    run.fails(*create, "--principal", "0", match="greater than zero")
    run.fails(*create, "--principal", "1.0000001", match="more than 6 decimal places")
    run.fails(*create, "--principal", "10", "--schedule", "balloon", match="Unknown schedule kind")
    run.fails(*create, "--principal", "10", "--period", "2w", match="not a duration")
    run.fails(*create, "--principal", "10", "--borrower", LENDER, match="BorrowerIsLender")
    run.fails(*create, "--principal", "10", "--account", "3", match="lacks ORIGINATOR_ROLE")
    run.fails(*create, "--principal", "99999999", match="holds 0.00 tUSDC")
    run.fails("repay", str(loan_id), "-5", "--account", "1", match="negative")
    run.fails("repay", str(loan_id), "0", "--account", "1", match="greater than zero")
    run.fails("repay", str(loan_id), "1.1234567", "--account", "1", match="decimal places")
    run.fails("repay", str(loan_id), "50", "--account", "3", match="holds 0.00 tUSDC")
    run.json("faucet", OUTSIDER, "50")
    nonces = {a: _nonce(w3, a) for a in nonces}  # the faucet minted from the lender
    run.fails(
        "repay", str(loan_id), "50", "--account", "3", "--no-approve",
        match="allows the ledger only 0.00 tUSDC",
    )  # fmt: skip
    run.fails("loan", "default", str(loan_id), "--account", "3", match="lacks SERVICER_ROLE")
    run.fails(
        "loan", "default", str(loan_id),
        match=f"loan {loan_id} is 0 days past due, short of its default threshold of 90 days",
    )  # fmt: skip
    run.fails("loan", "restructure", "accept", str(loan_id), match="Only the borrower")
    run.fails("chain", "advance", "soon", match="not a duration")
    assert {a: _nonce(w3, a) for a in nonces} == nonces


def test_unreachable_rpc_and_foreign_deployment_file(
    run: Cli, tmp_path: Path, deployment: Deployment
) -> None:
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["--rpc-url", "http://127.0.0.1:9", "loan", "show", "1"]
    )
    assert result.exit_code == 1
    assert "No Ethereum JSON-RPC node answered" in result.stderr
    assert "Traceback" not in result.stderr
    foreign = json.loads(run.deployment_file.read_text())
    foreign["chain_id"] = 10
    run.deployment_file.write_text(json.dumps(foreign))
    run.fails("loan", "show", "1", match="is for chain id 10, but the node is chain 31337")
    foreign["chain_id"] = 31337
    foreign["ledger"]["address"] = "0x" + "ab" * 20
    run.deployment_file.write_text(json.dumps(foreign))
    run.fails("loan", "show", "1", match="has no code there")
    run.fails("deploy", match="has no code there")
    run.deployment_file = tmp_path / "missing.json"
    run.fails("loan", "show", "1", match="No deployment file")


def test_dev_only_commands_refused_elsewhere(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    loan_id = _create(run)
    monkeypatch.setattr("loanservicing.cli.app.is_dev_chain", lambda w3: False)
    monkeypatch.setattr("loanservicing.servicing.session.is_dev_chain", lambda w3: False)
    run.fails("chain", "advance", "30d", match="works only on a dev chain")
    run.fails("chain", "time", match="works only on a dev chain")
    run.fails("faucet", BORROWER, "5", match="works only on a dev chain")
    run.fails("--account", "2", "repay", str(loan_id), "5", match="exist only on dev chains")
    run.fails("repay", str(loan_id), "5", match="not a dev chain, so name an account")
    run.fails("deploy", "--fresh", match="pass --token ADDRESS")
    # Off dev chains LOANSERVICING_PRIVATE_KEY is the default account.
    key_address = Account.from_key(KEY).address
    env = {"LOANSERVICING_PRIVATE_KEY": KEY}
    run.fails("repay", str(loan_id), "5", env=env, match=f"The account {key_address} holds 0")


def test_first_due_date_and_negative_faucet(run: Cli) -> None:
    now = run.json("chain", "time")["timestamp"]
    first_due = now + 10 * DAY
    iso = datetime.fromtimestamp(first_due, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    loan_id = _create(run, "--first-due", iso)
    shown = run.json("loan", "show", str(loan_id))
    # Due dates are dates: the installment is due until the last second of that date (UTC).
    due_end = (first_due // DAY + 1) * DAY - 1
    assert shown["next_due_timestamp"] == due_end
    assert shown["next_due_date"] == datetime.fromtimestamp(due_end, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    run.fails("loan", "create", "--borrower", BORROWER, "--principal", "10", "--apr", "1",
              "--installments", "2", "--period", "30d", "--first-due", "2001-01-01",
              match="first due date 2001-01-01T23:59:59Z is outside what the ledger")  # fmt: skip
    run.fails("faucet", BORROWER, "-3", match="negative")


def test_embedded_chain_without_deployment_explains_itself() -> None:
    result = CliRunner(mix_stderr=False).invoke(cli, ["loan", "show", "1"])
    assert result.exit_code == 1
    assert "new, empty Anvil" in result.stderr


def test_a_monthly_loan_in_its_offset_with_a_payoff_quoted_for_a_date(run: Cli) -> None:
    """Calendar terms from the command line: monthly (30/360), an offset, interest-only
    installments, a first due date as a date; the schedule shows dates there and each
    period's days, and `payoff --on DATE` quotes to that date."""
    now = run.json("chain", "time")["timestamp"]
    today = datetime.fromtimestamp(now + 8 * 3600, UTC).date()
    first = (today.replace(day=1) + timedelta(days=62)).replace(day=1)  # the 1st, 1-2 months on
    run.json("faucet", LENDER, "12000")
    created = run.json(*_create_args("12000", "12"), "--frequency", "monthly",
                       "--first-due", first.isoformat(), "--utc-offset", "+08:00",
                       "--interest-only", "2")  # fmt: skip
    loan_id = int(created["loan_id"])
    shown = run.json("loan", "schedule", str(loan_id))
    rows = shown["installments"]
    assert [r["due_date_local"][8:] for r in rows] == ["01"] * 12
    assert rows[0]["due_date_local"] == first.isoformat()
    assert [r["principal"] for r in rows[:2]] == [0, 0] and rows[2]["principal"] > 0
    assert rows[1]["days"] == 30
    later = run.json("payoff", str(loan_id), "--on", (today + timedelta(days=10)).isoformat())
    at_once = run.json("payoff", str(loan_id))
    assert later["amount"] > at_once["amount"] == 12_000 * 10**6
    run.fails("payoff", str(loan_id), "--on", "2001-01-01", match="in the past")
    terms = run.json("loan", "show", str(loan_id))
    assert (terms["frequency"], terms["day_count"], terms["utc_offset"]) == (
        "monthly",
        "30/360",
        "+08:00",
    )
    assert (terms["interest_only"], terms["rounding_units"], terms["anchor_day"]) == (2, 10_000, 1)
    # A restructuring keeps the loan's months: a period of days is refused before sending.
    propose = ("loan", "restructure", "propose", str(loan_id), "--apr", "5", "--installments", "6")
    run.fails(*propose, "--period", "30d", match="keeps that frequency")
    assert run.json(*propose)["period_seconds"] == 0
    run.fails(*_create_args(), "--frequency", "monthly", "--day-count", "act/365",
              match="DayCountNotSupported")  # fmt: skip
    run.fails(*_create_args(), "--frequency", "fortnightly", match="unknown frequency")
    run.fails(*_create_args(), "--period", "30d", "--rounding", "0.03", match="power of ten")


def _create_args(principal: str = "10", installments: str = "2") -> tuple[str, ...]:
    return ("loan", "create", "--borrower", BORROWER, "--principal", principal, "--apr", "12",
            "--installments", installments)  # fmt: skip
