"""E-mail: notices to each borrower at the address in their vault, and a daily digest for
servicers, over SMTP (the standard library's ``smtplib``) with STARTTLS and authentication.

* **Settings.** ``smtp://user@host:587`` needs STARTTLS (a server that does not offer it, or a
  certificate the client does not trust, is refused); ``smtp+plain://host:25`` sends in clear,
  for a relay on the same host only. The password is read from an environment variable
  (``LOANSERVICING_SMTP_PASSWORD`` unless told otherwise) when logging in, and is never part
  of a URL, a name, a message or a log line.
* **Recipients.** :class:`EmailChannel` asks a :class:`~loanservicing.sharing.contacts.ContactBook`
  for the borrower's ``contact`` document, read from the vault as the servicer: without the
  borrower's consent covering ``contact``, without a contact document, or after an erasure,
  the vault refuses (and logs the refusal) and the notice is not sent: a permanent
  :class:`DeliveryError` saying why, which the outbox records as failed for this channel.
  Kinds that concern only the lender and servicer (held repayments, failed credit reports) are
  accepted without a message: they are in the servicers' digest.
* **Once.** Every message has a ``Message-ID`` derived from the notice id
  (``<reminder.12.1.1798480761@example.org>``), so a receiver can drop the repeat of a message
  whose acceptance was lost; once the server accepted a message, nothing that happens after
  (a failing ``QUIT``) makes it a failure, and the channel never sends an id twice in one
  process.
* **Errors.** 4xx replies, a refused connection, a timeout, a dropped connection and TLS or
  login failures are transient: the Dispatcher backs off and the notices wait in the outbox
  (a wrong password must not fail every notice for good; :meth:`EmailChannel.check` reports it
  in one sentence at start-up). 5xx replies to a message (its sender, its recipient, its
  content) are permanent for that notice; the borrower's address never appears in an error.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from urllib.parse import unquote, urlsplit

import requests
from web3.exceptions import Web3Exception

from loanservicing.amounts import InvalidInput
from loanservicing.monitoring.email_templates import (
    BORROWER_KINDS,
    RenderedEmail,
    render_digest,
    render_notice,
)
from loanservicing.monitoring.errors import DeliveryError
from loanservicing.monitoring.notices import Notice
from loanservicing.sharing.contacts import ContactBook
from loanservicing.sharing.errors import (
    AccessDenied,
    DataSharingError,
    DocumentErased,
    DocumentNotFound,
    InvalidContact,
)

__all__ = [
    "PASSWORD_ENV",
    "EmailChannel",
    "SmtpSettings",
    "message_id",
    "send_digest",
]

logger = logging.getLogger(__name__)

PASSWORD_ENV = "LOANSERVICING_SMTP_PASSWORD"
_SCHEMES = {"smtp": True, "smtp+plain": False}  # scheme -> STARTTLS required


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: the server, the sender (``From``), the login user (the
    password is read from the environment variable ``password_env`` at login), STARTTLS,
    the TLS context (default: the system's trusted certificates) and the socket timeout."""

    host: str
    port: int
    sender: str
    user: str | None = None
    password_env: str = PASSWORD_ENV
    starttls: bool = True
    timeout: float = 10.0
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_url(
        cls,
        url: str,
        sender: str,
        password_env: str = PASSWORD_ENV,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 10.0,
    ) -> SmtpSettings:
        """``smtp://[user@]host[:port]`` (STARTTLS, port 587 by default) or
        ``smtp+plain://[user@]host[:port]`` (no TLS, port 25); refused with a sentence when
        the URL carries a password, the sender is no address, or a user is named but the
        password's environment variable is empty."""
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise InvalidInput(
                f"The SMTP URL {_without_password(url)!r} is not like smtp://user@host:587 "
                "(STARTTLS) or smtp+plain://host:25 (a local relay, no TLS)."
            )
        if parts.password is not None:
            raise InvalidInput(
                f"The SMTP URL must not contain the password; put it in the environment "
                f"variable {password_env}."
            )
        if not _is_sender(sender):
            raise InvalidInput(f"The sender {sender!r} is not an e-mail address.")
        starttls = _SCHEMES[parts.scheme]
        try:
            port = parts.port or (587 if starttls else 25)
        except ValueError:
            raise InvalidInput(f"The SMTP URL {_without_password(url)!r} has a bad port.") from None
        user = unquote(parts.username) if parts.username else None
        if user and not os.environ.get(password_env):
            raise InvalidInput(
                f"The SMTP user {user} needs a password: set the environment variable "
                f"{password_env}."
            )
        return cls(parts.hostname, port, sender, user, password_env, starttls, timeout, ssl_context)

    @property
    def url(self) -> str:
        """The server, as the channel is named (no user, no password)."""
        return f"{'smtp' if self.starttls else 'smtp+plain'}://{self.host}:{self.port}"

    @property
    def sender_name(self) -> str:
        """The sender's display name (``Lender Servicing`` of ``Lender Servicing <notices@...>``),
        which signs the messages; ``Loan servicing`` when it has none."""
        return parseaddr(self.sender)[0] or "Loan servicing"

    @property
    def domain(self) -> str:
        """The sender's domain: the right-hand side of every Message-ID."""
        return parseaddr(self.sender)[1].rpartition("@")[2].lower() or "localhost"


def _without_password(url: str) -> str:
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)


def _is_sender(sender: str) -> bool:
    address = parseaddr(sender)[1]
    return "@" in address and not any(c in sender for c in "\r\n")


def message_id(notice_id: str, domain: str) -> str:
    """The Message-ID of a notice's e-mail: its id with dots for colons, at the sender's
    domain (``<overdue.12.1.1798480761@example.org>``)."""
    local = re.sub(r"[^A-Za-z0-9_.\-]", ".", notice_id)
    return f"<{local}@{domain}>"


# ---------------------------------------------------------------------------- SMTP


@contextmanager
def _smtp_errors(settings: SmtpSettings, recipients: Sequence[str] = ()) -> Iterator[None]:
    """Turns what smtplib and the socket raise into DeliveryError: 5xx replies to the sender,
    a recipient or the message permanent, everything else (the greeting and HELO included)
    transient. Recipient addresses are cut out of server replies (the
    outbox and the logs must not hold personal data)."""
    where = settings.url
    try:
        yield
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"{where} refused the login of {settings.user} ({exc.smtp_code}): check the user "
            f"and the password in {settings.password_env}."
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        raise _reply_error(where, "refused the recipient", code, reply, recipients) from None
    except (smtplib.SMTPConnectError, smtplib.SMTPHeloError) as exc:  # the server, not the message
        error = _reply_error(where, "refused the session", exc.smtp_code, exc.smtp_error, ())
        raise DeliveryError(str(error)) from None
    except smtplib.SMTPResponseException as exc:  # sender or message refused
        raise _reply_error(
            where, "refused the message", exc.smtp_code, exc.smtp_error, recipients
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"{where} does not support what was asked: {exc}") from None
    except smtplib.SMTPServerDisconnected:
        raise DeliveryError(f"{where} closed the connection.") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"{where} failed: {_redact(str(exc), recipients)}") from None
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(
            f"{where}'s TLS certificate is not trusted ({exc.verify_message})."
        ) from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"TLS with {where} failed ({exc.reason or exc}).") from None
    except TimeoutError:
        raise DeliveryError(f"{where} did not answer within {settings.timeout:g} s.") from None
    except ConnectionRefusedError:
        raise DeliveryError(f"{where} refused the connection.") from None
    except OSError as exc:
        raise DeliveryError(f"{where} cannot be reached ({exc.strerror or exc}).") from None


def _reply_error(
    where: str, what: str, code: int, reply: bytes | str, recipients: Sequence[str]
) -> DeliveryError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    text = " ".join(_redact(text, recipients).split())
    return DeliveryError(f"{where} {what}: {code} {text}".rstrip(), permanent=500 <= code < 600)


def _redact(text: str, recipients: Sequence[str]) -> str:
    for address in recipients:
        text = re.sub(re.escape(address), "<recipient>", text, flags=re.IGNORECASE)
    return text


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """A connection that is encrypted (unless plain) and logged in (when a user is set)."""
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.starttls:
            if not smtp.has_extn("starttls"):
                raise DeliveryError(
                    f"{settings.url} does not offer STARTTLS; only a local relay may be used "
                    "without TLS (smtp+plain://)."
                )
            smtp.starttls(context=settings.ssl_context or ssl.create_default_context())
            smtp.ehlo()
        if settings.user:
            if not smtp.has_extn("auth"):
                raise DeliveryError(
                    f"{settings.url} offers no login (AUTH) on this connection"
                    + ("." if settings.starttls else "; it may require STARTTLS (smtp://).")
                )
            smtp.login(settings.user, os.environ.get(settings.password_env, ""))
    except BaseException:
        smtp.close()
        raise
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _send(settings: SmtpSettings, message: EmailMessage, recipients: Sequence[str]) -> None:
    """One message over one connection. Once the server accepted it, it is sent: what
    fails afterwards is ignored."""
    with _smtp_errors(settings, recipients):
        smtp = _connect(settings)
    try:
        with _smtp_errors(settings, recipients):
            smtp.send_message(message, to_addrs=list(recipients))
    finally:
        _quit(smtp)


def _message(
    settings: SmtpSettings, rendered: RenderedEmail, to: Sequence[str], msg_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(to)
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = msg_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


# ---------------------------------------------------------------------------- channel


class EmailChannel:
    """Sends each notice of a borrower kind (:data:`BORROWER_KINDS`) to its borrower's
    address in the vault. ``symbol`` is the token's symbol for notices that carry none."""

    def __init__(
        self,
        settings: SmtpSettings,
        contacts: ContactBook,
        symbol: str = "",
        sender_name: str | None = None,
    ) -> None:
        self.settings = settings
        self.contacts = contacts
        self.symbol = symbol
        self.sender_name = sender_name or settings.sender_name
        self.name = f"email:{settings.url}"
        self._sent: set[str] = set()

    def check(self) -> None:
        """Connect, start TLS and log in, then leave: a DeliveryError says in one sentence
        what is wrong with the settings (for ``monitor run`` to stop on at start-up)."""
        with _smtp_errors(self.settings):
            smtp = _connect(self.settings)
        _quit(smtp)

    def recipient(self, notice: Notice) -> str:
        """The borrower's address, read from the vault; a permanent DeliveryError when the
        vault refuses (no consent, no contact document, erased)."""
        try:
            return self.contacts.email(notice.borrower)
        except (AccessDenied, DocumentNotFound, DocumentErased, InvalidContact) as exc:
            raise DeliveryError(f"Not sent to the borrower: {exc}", permanent=True) from None
        except DataSharingError as exc:  # the vault's files cannot be read now
            raise DeliveryError(f"The vault cannot be read now: {exc}") from None
        except (requests.RequestException, Web3Exception, OSError) as exc:
            raise DeliveryError(
                f"The borrower's consent cannot be checked now ({type(exc).__name__})."
            ) from None

    def message(self, notice: Notice, to: str) -> EmailMessage:
        rendered = render_notice(notice, self.symbol, self.sender_name)
        message = _message(
            self.settings, rendered, [to], message_id(notice.id, self.settings.domain)
        )
        message["X-Loanservicing-Notice"] = notice.id
        return message

    def send(self, notice: Notice) -> None:
        if notice.id in self._sent:
            return
        if notice.kind not in BORROWER_KINDS:
            logger.debug("%s: %s notices are not mailed to borrowers.", self.name, notice.kind)
            return
        to = self.recipient(notice)
        _send(self.settings, self.message(notice, to), [to])
        self._sent.add(notice.id)
        logger.info("%s sent notice %s.", self.name, notice.id)


# ---------------------------------------------------------------------------- digest


def send_digest(
    settings: SmtpSettings,
    to: Sequence[str],
    notices: Sequence[Notice],
    day: date,
    symbol: str = "",
    sender_name: str | None = None,
) -> str:
    """Send servicers one e-mail summarising the notices raised on ``day`` (UTC chain time;
    notices of other days are left out): counts by kind, then one line each, as plain text
    and HTML. Returns its Message-ID, derived from the day and the notices' ids, so the
    same digest sent twice can be dropped by the receiver. Raises DeliveryError."""
    if not to:
        raise InvalidInput("Name at least one recipient of the digest.")
    for address in to:
        if not _is_sender(address):
            raise InvalidInput(f"The digest recipient {address!r} is not an e-mail address.")
    of_day = [n for n in notices if datetime.fromtimestamp(n.chain_timestamp, UTC).date() == day]
    rendered = render_digest(of_day, day.isoformat(), symbol, sender_name or settings.sender_name)
    digest = hashlib.sha256("\n".join(n.id for n in of_day).encode()).hexdigest()[:16]
    msg_id = f"<digest.{day.isoformat()}.{digest}@{settings.domain}>"
    _send(settings, _message(settings, rendered, to, msg_id), to)
    logger.info("Sent the digest of %s (%d notices).", day.isoformat(), len(of_day))
    return msg_id
