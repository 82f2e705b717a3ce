"""E-mail from the CLI against a real SMTP server (aiosmtpd, STARTTLS and AUTH): ``monitor
run --email-smtp`` mails a borrower's reminder once to the address the vault holds under the
borrower's consent; ``monitor digest`` sends the servicers the day's summary; wrong settings
are one sentence before anything is sent."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from loanservicing.chain.accounts import dev_signer
from tests.cli.driver import LENDER, Cli
from tests.support.mail import SMTP_PASSWORD, Certificate, MailServer, make_certificate

BORROWER = dev_signer(1).address
ADDRESS = "marta.kowalczyk@example.org"
SENDER = "Servicing <notices@lender.example>"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[MailServer, Certificate]]:
    certificate = make_certificate(tmp_path / "tls")
    mail = MailServer(certificate)
    mail.start()
    yield mail, certificate
    mail.stop()


def test_monitor_run_mails_the_borrower_once_and_digest_the_servicers(
    run: Cli, tmp_path: Path, server: tuple[MailServer, Certificate]
) -> None:
    mail, certificate = server
    data = ("--data-deployment", str(tmp_path / "data.json"), "--vault-dir",
            str(tmp_path / "vault"))  # fmt: skip
    run.json("data", *data, "deploy", "--regulator", dev_signer(9).address)
    loan_id = run.create(BORROWER, "1000")
    (tmp_path / "contact.json").write_text(json.dumps({"email": ADDRESS}))
    run.json("vault", *data, "put", BORROWER, "--category", "contact",
             "--document", str(tmp_path / "contact.json"))  # fmt: skip
    run.json("consent", *data, "grant", "--viewer", LENDER, "--categories", "contact",
             "--until", "90d", "--account", "1")  # fmt: skip
    run.json("chain", "advance", "28d")  # inside the reminder window
    smtp = ("--email-smtp", mail.url, "--email-from", SENDER, "--smtp-ca-file",
            str(certificate.cert_path))  # fmt: skip
    env = {"LOANSERVICING_SMTP_PASSWORD": SMTP_PASSWORD}
    db = ("--db", str(tmp_path / "index.db"))
    for _ in range(2):  # a second tick raises nothing new and mails nothing again
        ticked = run.raw("monitor", "run", "--once", "--quiet", *db, *smtp, *data, env=env)
        assert ticked.exit_code == 0, ticked.stderr
    mailed = [(to, m) for to, m in mail.mailbox.messages]
    assert [to for to, _ in mailed] == [[ADDRESS]]
    (_, message) = mailed[0]
    assert "reminder" in str(message["Message-ID"]) and f".{loan_id}." in str(message["Message-ID"])
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    assert "tUSDC" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    today = dt.datetime.fromtimestamp(run.json("chain", "time")["timestamp"], dt.UTC).date()
    digest = run.json("monitor", "digest", "--to", "ops@lender.example", "--day",
                      today.isoformat(), *db, *smtp[:6], env=env)  # fmt: skip
    assert digest["day"] == today.isoformat() and digest["notices"] >= 1
    assert mail.mailbox.messages[-1][0] == ["ops@lender.example"]
    assert str(mail.mailbox.messages[-1][1]["Message-ID"]) == digest["message_id"]

    sent = len(mail.mailbox.messages)
    run.fails("monitor", "run", "--once", *db, "--email-smtp", mail.url, *data, env=env,
              match="--email-smtp needs --email-from")  # fmt: skip
    run.fails("monitor", "run", "--once", *db, *smtp, *data,
              env={"LOANSERVICING_SMTP_PASSWORD": "wrong"}, match="refused the login")  # fmt: skip
    run.fails("monitor", "digest", "--to", "ops@lender.example", *db, env=env,
              match="Name the SMTP server with --email-smtp")  # fmt: skip
    assert len(mail.mailbox.messages) == sent
