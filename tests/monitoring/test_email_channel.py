"""The e-mail channel against a real SMTP server (aiosmtpd with STARTTLS and AUTH) and the
vault on a real Anvil: a reminder reaches the borrower's vault address once; no consent, no
contact document or an erasure mean no message, recorded as failed and in the vault's log; a
server that is down or answers 451 gets each message once when it is back; 550 is permanent;
wrong credentials are one sentence; the servicers' digest."""

from __future__ import annotations

import ssl
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest

from loanservicing.amounts import InvalidInput
from loanservicing.indexing.database import IndexDB
from loanservicing.monitoring.channels import Dispatcher
from loanservicing.monitoring.email_channel import (
    EmailChannel,
    SmtpSettings,
    message_id,
    send_digest,
)
from loanservicing.monitoring.email_templates import render_notice
from loanservicing.monitoring.errors import DeliveryError
from loanservicing.monitoring.notices import Notice, NoticeStore
from loanservicing.sharing.contacts import ContactBook, contact_document
from loanservicing.sharing.vault import Vault
from tests.support.data import BORROWER, DAY, LENDER, OTHER, WALLET_OWNER, DataEnv
from tests.support.indexing import open_index
from tests.support.mail import SMTP_PASSWORD, Certificate, MailServer, make_certificate
from tests.support.monitoring import make_notice

CONTACT = 16
SERVICER = LENDER
PASSWORD_ENV = "TEST_LOANSERVICING_SMTP_PASSWORD"
SENDER = "Lender Servicing <notices@lender.example>"
EMAILS = {
    BORROWER: "marta.kowalczyk@example.org",
    OTHER: "jonas.lindqvist@example.net",
    WALLET_OWNER: "ade.okafor@example.com",
}


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def server(certificate: Certificate) -> Iterator[MailServer]:
    mail = MailServer(certificate)
    yield mail
    mail.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Mail:
    """A servicer's e-mail set-up: the vault, the contact book, the channel and an outbox."""

    data: DataEnv
    vault: Vault
    channel: EmailChannel
    db: IndexDB
    store: NoticeStore
    clock: Clock

    def borrower(self, index: int, consent: bool = True, contact: bool = True) -> str:
        address = self.data.address(index)
        if contact:
            self.vault.store(address, "contact", contact_document(EMAILS[index]))
        if consent:
            servicer = self.data.address(SERVICER)
            self.data.consents.grant(address, servicer, CONTACT, self.data.now() + 30 * DAY)
        return address

    def raise_notices(self, notices: list[Notice]) -> list[Notice]:
        with self.db.transaction():
            return self.store.insert(notices, [self.channel.name])

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(
            self.store, [self.channel], backoff_initial=1.0, backoff_max=8.0, clock=self.clock
        )


def _settings(
    server: MailServer, certificate: Certificate, password_env: str = PASSWORD_ENV
) -> SmtpSettings:
    return SmtpSettings.from_url(
        server.url, SENDER, password_env, certificate.client_context(), timeout=5
    )


@pytest.fixture
def mail(
    tmp_path: Path,
    data: DataEnv,
    server: MailServer,
    certificate: Certificate,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Mail]:
    monkeypatch.setenv(PASSWORD_ENV, SMTP_PASSWORD)
    vault = Vault(tmp_path / "vault.db", tmp_path / "keys" / "keys.db", data.consents)
    contacts = ContactBook(vault, data.keys[SERVICER])
    channel = EmailChannel(_settings(server, certificate), contacts, symbol="tUSDC")
    db = open_index(tmp_path / "index.db")
    yield Mail(data, vault, channel, db, NoticeStore(db), Clock())
    db.close()


def _for(notice: Notice, borrower: str) -> Notice:
    return replace(notice, borrower=borrower, id=f"{notice.id}:{borrower[-4:]}")


def test_a_reminder_reaches_the_borrowers_vault_address_once_with_both_bodies(
    mail: Mail, server: MailServer
) -> None:
    server.start()
    borrower = mail.borrower(BORROWER)
    (notice,) = mail.raise_notices([make_notice(12, 1, "reminder")])
    assert notice.borrower == borrower
    dispatcher = mail.dispatcher()
    assert dispatcher.deliver().delivered == {mail.channel.name: 1}
    assert dispatcher.deliver().delivered == {}
    mail.channel.send(notice)  # a repeat in the same process sends nothing
    ((recipients, message),) = server.mailbox.messages
    assert recipients == [EMAILS[BORROWER]]
    assert message["To"] == EMAILS[BORROWER]
    assert message["From"] == SENDER
    assert message["Subject"] == "Loan 12: 1,066.19 tUSDC due on 2027-01-15"
    assert message["Message-ID"] == message_id(notice.id, "lender.example")
    assert message["Message-ID"] == "<reminder.12.1.1800000001@lender.example>"
    assert message["X-Loanservicing-Notice"] == notice.id
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    plain = " ".join(text.get_content().split())
    assert "Installment 1 of your loan 12 is due on 2027-01-15. Please pay 1,066.19 tUSDC" in plain
    assert "<p>Installment 1 of your loan 12 is due on 2027-01-15." in html.get_content()
    assert "\nLender Servicing - loan 12, notice reminder:12:1:1800000001" in text.get_content()
    assert render_notice(notice, "tUSDC").subject == message["Subject"]
    assert server.mailbox.logins == ["servicer"]
    # The servicer's read of the address is in the vault's log.
    read = mail.vault.log_entries(borrower)[-1]
    assert (read.action, read.actor, read.category, read.decision) == (
        "read",
        mail.data.address(SERVICER),
        "contact",
        "granted",
    )
    (row,) = mail.store.deliveries(notice.seq or 0)
    assert row["delivered_at"] and row["attempts"] == 1 and not row["failed"]


def test_no_consent_no_contact_or_an_erased_borrower_get_nothing_and_it_is_recorded(
    mail: Mail, server: MailServer
) -> None:
    server.start()
    no_consent = mail.borrower(BORROWER, consent=False)
    no_contact = mail.borrower(OTHER, contact=False)
    erased = mail.borrower(WALLET_OWNER)
    mail.vault.erase(erased)
    notices = mail.raise_notices(
        [_for(make_notice(1, 1, "overdue"), b) for b in (no_consent, no_contact, erased)]
    )
    report = mail.dispatcher().deliver()
    assert report.failed == {mail.channel.name: 3}
    assert report.pending == {mail.channel.name: 0} and report.errors == {}
    assert server.mailbox.messages == []
    errors = []
    for notice in notices:
        (row,) = mail.store.deliveries(notice.seq or 0)
        assert row["failed"] and not row["delivered_at"] and row["attempts"] == 1
        errors.append(row["last_error"])
    servicer = mail.data.address(SERVICER)
    assert errors == [
        f"Not sent to the borrower: {servicer} has no consent of {no_consent} to read contact "
        "data.",
        f"Not sent to the borrower: The vault holds no contact document of {no_contact}.",
        f"Not sent to the borrower: The contact data of {erased} was erased: its key is destroyed.",
    ]
    for borrower, detail in (
        (no_consent, "has no consent"),
        (no_contact, "no such document"),
        (erased, "erased"),
    ):
        refused = mail.vault.log_entries(borrower)[-1]
        assert (refused.action, refused.actor, refused.category, refused.decision) == (
            "read",
            servicer,
            "contact",
            "refused",
        )
        assert detail in refused.detail
    assert mail.vault.verify_log().ok
    assert mail.dispatcher().deliver().failed == {}  # never tried again


def test_a_server_down_or_answering_451_then_back_gets_each_message_once(
    mail: Mail, server: MailServer
) -> None:
    borrowers = [mail.borrower(i) for i in (BORROWER, OTHER, WALLET_OWNER)]
    mail.raise_notices(
        [_for(make_notice(k + 1, 1, "reminder"), b) for k, b in enumerate(borrowers)]
    )
    dispatcher = mail.dispatcher()
    name = mail.channel.name
    # Down: the connection is refused; the notices wait and the channel backs off.
    report = dispatcher.deliver()
    assert report.pending == {name: 3} and report.errors[name].endswith("refused the connection.")
    assert dispatcher.next_retry() == 1.0
    # Up, but the first message is answered 451.
    server.start()
    server.mailbox.failing = 1
    mail.clock.now = 1.0
    report = dispatcher.deliver()
    assert report.pending == {name: 3} and report.delivered == {}
    assert " refused the message: 451 4.3.0 Temporarily unable" in report.errors[name]
    # Back for good after the backoff (2 s): every message once, in order.
    mail.clock.now = 3.0
    assert dispatcher.deliver().delivered == {name: 3}
    assert dispatcher.deliver().delivered == {}
    ids = server.mailbox.message_ids()
    assert Counter(ids) == {message_id(n.id, "lender.example"): 1 for n in mail.store.notices()}
    assert [r for r, _ in server.mailbox.messages] == [[EMAILS[i]] for i in (1, 5, 6)]
    # A new process (a fresh channel) on the same outbox sends nothing again.
    again = EmailChannel(mail.channel.settings, mail.channel.contacts, symbol="tUSDC")
    assert Dispatcher(mail.store, [again]).deliver().delivered == {}
    assert len(server.mailbox.messages) == 3


def test_a_server_stopped_between_messages_delivers_the_rest_once_it_is_back(
    mail: Mail, server: MailServer
) -> None:
    server.start()
    borrower = mail.borrower(BORROWER)
    mail.raise_notices([make_notice(1, 1, "reminder")])
    dispatcher = mail.dispatcher()
    assert dispatcher.deliver().delivered == {mail.channel.name: 1}
    server.stop()
    mail.raise_notices([make_notice(1, 2, "overdue"), make_notice(1, 3, "overdue")])
    assert dispatcher.deliver().pending == {mail.channel.name: 2}
    server.start()
    mail.clock.now = 1.0
    assert dispatcher.deliver().delivered == {mail.channel.name: 2}
    ids = server.mailbox.message_ids()
    assert len(ids) == len(set(ids)) == 3
    assert all(r == [EMAILS[BORROWER]] for r, _ in server.mailbox.messages)
    assert borrower == mail.data.address(BORROWER)


def test_a_550_is_permanent_and_the_address_stays_out_of_the_outbox(
    mail: Mail, server: MailServer
) -> None:
    server.start()
    mail.borrower(BORROWER)
    server.mailbox.refuse.add(EMAILS[BORROWER])
    (notice,) = mail.raise_notices([make_notice(3, 1, "overdue")])
    with pytest.raises(DeliveryError) as refused:
        mail.channel.send(notice)
    assert refused.value.permanent
    report = mail.dispatcher().deliver()
    assert report.failed == {mail.channel.name: 1} and report.pending == {mail.channel.name: 0}
    (row,) = mail.store.deliveries(notice.seq or 0)
    assert row["failed"] and not row["delivered_at"]
    assert row["last_error"] == (
        f"smtp://127.0.0.1:{server.port} refused the recipient: 550 5.1.1 <<recipient>>: "
        "mailbox unavailable"
    )
    assert server.mailbox.messages == []


def test_wrong_credentials_and_an_untrusted_certificate_are_one_clear_error(
    mail: Mail, server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.start()
    mail.borrower(BORROWER)
    monkeypatch.setenv(PASSWORD_ENV, "Tr0ub4dor&3")
    with pytest.raises(DeliveryError) as wrong:
        mail.channel.check()
    assert str(wrong.value) == (
        f"smtp://127.0.0.1:{server.port} refused the login of servicer (535): check the user "
        f"and the password in {PASSWORD_ENV}."
    )
    assert "Tr0ub4dor" not in str(wrong.value) and not wrong.value.permanent
    # The notices wait for the password to be fixed instead of failing for good.
    mail.raise_notices([make_notice(4, 1, "reminder")])
    report = mail.dispatcher().deliver()
    assert report.pending == {mail.channel.name: 1} and report.failed == {}
    monkeypatch.setenv(PASSWORD_ENV, SMTP_PASSWORD)
    mail.channel.check()
    # A client that trusts only the system's CAs refuses the self-signed certificate.
    untrusted = replace(mail.channel.settings, ssl_context=ssl.create_default_context())
    with pytest.raises(DeliveryError, match="TLS certificate is not trusted"):
        EmailChannel(untrusted, mail.channel.contacts).check()
    # Plain text to a server that requires STARTTLS first: refused, and no password sent.
    with pytest.raises(DeliveryError, match=r"offers no login \(AUTH\) on this connection; it"):
        EmailChannel(replace(untrusted, starttls=False), mail.channel.contacts).check()
    assert server.mailbox.logins == ["servicer"]


def test_settings_come_from_a_url_without_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "secret")
    settings = SmtpSettings.from_url(
        "smtp://ops%40lender@mail.lender.example", SENDER, PASSWORD_ENV
    )
    assert (settings.host, settings.port, settings.user, settings.starttls) == (
        "mail.lender.example",
        587,
        "ops@lender",
        True,
    )
    assert settings.url == "smtp://mail.lender.example:587" and "secret" not in repr(settings)
    relay = SmtpSettings.from_url("smtp+plain://127.0.0.1", SENDER)
    assert (relay.port, relay.starttls, relay.user) == (25, False, None)
    with pytest.raises(InvalidInput, match="must not contain the password") as info:
        SmtpSettings.from_url("smtp://ops:hunter2@mail.lender.example", SENDER)
    assert "hunter2" not in str(info.value)
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(InvalidInput, match=f"set the environment variable {PASSWORD_ENV}"):
        SmtpSettings.from_url("smtp://ops@mail.lender.example", SENDER, PASSWORD_ENV)
    with pytest.raises(InvalidInput, match="not like smtp://"):
        SmtpSettings.from_url("https://mail.lender.example", SENDER)
    with pytest.raises(InvalidInput, match="not an e-mail address"):
        SmtpSettings.from_url("smtp+plain://127.0.0.1", "notices")


def test_notices_for_the_lender_only_are_not_mailed(mail: Mail, server: MailServer) -> None:
    server.start()
    mail.borrower(BORROWER)
    mail.raise_notices([make_notice(5, 1, "repayment_held"), make_notice(5, 1, "closed")])
    assert mail.dispatcher().deliver().delivered == {mail.channel.name: 2}
    ((_, message),) = server.mailbox.messages
    assert message["Subject"] == "Loan 5: closed"


def test_the_daily_digest_summarises_the_days_notices(
    mail: Mail, server: MailServer, certificate: Certificate
) -> None:
    server.start()
    day = date(2027, 1, 22)  # make_notice's chain time: 2027-01-22
    notices = [
        make_notice(1, 1, "reminder"),
        make_notice(2, 1, "overdue"),
        make_notice(2, 2, "overdue"),
        make_notice(3, 1, "payment_received"),
    ]
    next_day = replace(make_notice(4, 1, "overdue"), chain_timestamp=1_800_700_000)
    to = ["servicing@lender.example", "risk@lender.example"]
    msg_id = send_digest(mail.channel.settings, to, [*notices, next_day], day, symbol="tUSDC")
    ((recipients, message),) = server.mailbox.messages
    assert recipients == to and message["Message-ID"] == msg_id
    assert msg_id.startswith("<digest.2027-01-22.") and msg_id.endswith("@lender.example>")
    assert message["Subject"] == "Loan servicing digest 2027-01-22: 4 notices"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    lines = text.get_content().splitlines()
    assert lines[0] == "Notices raised on 2027-01-22: 4"
    counts = [line.split() for line in lines if line.startswith("  ")]
    assert counts == [["reminder", "1"], ["payment_received", "1"], ["overdue", "2"]]
    assert sum("loan 2: installment" in line for line in lines) == 2
    expected = "1,066.19 tUSDC  loan 1: installment 1 of 1,066.19 tUSDC, due 2027-01-15"
    assert any(line.endswith(expected) for line in lines)
    assert "loan 4:" not in text.get_content()  # the next day's notice is left out
    assert '<td style="padding-right: 2em;">overdue</td><td style="text-align: right;">2</td>' in (
        html.get_content()
    )
    # The same digest again has the same Message-ID; an empty day says so.
    assert send_digest(mail.channel.settings, to, notices, day, symbol="tUSDC") == msg_id
    send_digest(mail.channel.settings, to[:1], notices, date(2027, 1, 1))
    empty = server.mailbox.messages[-1][1].get_body(("plain",))
    assert empty is not None and "No notices were raised that day." in empty.get_content()
