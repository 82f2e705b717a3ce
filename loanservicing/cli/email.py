"""E-mail from the CLI: the SMTP options ``monitor run`` and ``monitor digest`` share, the
borrowers' channel (addresses read from the vault as the servicer) and ``monitor digest``.
``monitor digest`` is attached to the ``monitor`` group in :mod:`loanservicing.cli`."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from loanservicing.amounts import InvalidInput, parse_date
from loanservicing.cli.app import state_of
from loanservicing.cli.data import DataSession
from loanservicing.cli.options import DURATION, account_option, db_option, json_option
from loanservicing.cli.output import emit
from loanservicing.indexing.database import IndexDB
from loanservicing.monitoring.email_channel import PASSWORD_ENV, EmailChannel, SmtpSettings
from loanservicing.monitoring.email_channel import send_digest as mail_digest
from loanservicing.monitoring.notices import NoticeStore
from loanservicing.sharing.contacts import ContactBook

__all__ = ["email_channel", "email_options", "monitor_digest", "smtp_settings"]

F = TypeVar("F", bound=Callable[..., Any])


def email_options(f: F) -> F:
    """``--email-smtp URL``, ``--email-from``, ``--smtp-password-env``, ``--smtp-ca-file`` and
    ``--smtp-timeout``."""
    options = [
        click.option(
            "--email-smtp",
            envvar="LOANSERVICING_SMTP_URL",
            help="smtp://user@host:587 (STARTTLS) or smtp+plain://host:25 (env "
            "LOANSERVICING_SMTP_URL); the password comes from --smtp-password-env.",
        ),
        click.option("--email-from", help='The sender, e.g. "Servicing <ops@lender.example>".'),
        click.option(
            "--smtp-password-env",
            default=PASSWORD_ENV,
            show_default=True,
            help="Environment variable holding the SMTP password.",
        ),
        click.option(
            "--smtp-ca-file",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            help="PEM of the certificate authority to trust for STARTTLS (default: the system's).",
        ),
        click.option("--smtp-timeout", type=DURATION, default="10s", show_default=True),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def smtp_settings(options: dict[str, Any]) -> SmtpSettings | None:
    """The settings the :func:`email_options` name, or None without ``--email-smtp``."""
    url = options.get("email_smtp")
    if not url:
        return None
    if not options.get("email_from"):
        raise InvalidInput("--email-smtp needs --email-from, the sender of the messages.")
    ca_file = options.get("smtp_ca_file")
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    return SmtpSettings.from_url(
        str(url),
        str(options["email_from"]),
        str(options["smtp_password_env"]),
        context,
        float(options["smtp_timeout"]),
    )


def email_channel(ctx: click.Context, settings: SmtpSettings, symbol: str) -> EmailChannel:
    """The borrowers' channel: each address read from the vault (the data-sharing options)
    with a request signed by the servicer (the signing account), under the borrower's consent
    to ``contact`` data; the server's settings checked at once (one sentence when wrong)."""
    session = DataSession(ctx)
    contacts = ContactBook(session.vault(), session.account())
    channel = EmailChannel(settings, contacts, symbol)
    channel.check()
    return channel


@click.command("digest")
@click.option("--to", "recipients", multiple=True, required=True, help="A servicer's address.")
@click.option("--day", help="The day (YYYY-MM-DD, UTC chain time; default: yesterday's).")
@email_options
@db_option
@account_option
@json_option
@click.pass_context
def monitor_digest(
    ctx: click.Context,
    /,
    recipients: tuple[str, ...],
    day: str | None,
    db_path: str,
    **options: Any,
) -> None:
    """E-mail the servicers one summary of the notices raised on a day (reads the index)."""
    state = state_of(ctx)
    settings = smtp_settings(options)
    if settings is None:
        raise InvalidInput("Name the SMTP server with --email-smtp (or LOANSERVICING_SMTP_URL).")
    if day is None:
        now = dt.datetime.fromtimestamp(state.servicer(write=False).now(), dt.UTC)
        date = now.date() - dt.timedelta(days=1)
    else:
        date = dt.datetime.fromtimestamp(parse_date(day, "--day"), dt.UTC).date()
    start = int(dt.datetime.combine(date, dt.time(), dt.UTC).timestamp())
    with IndexDB(db_path) as db:
        notices = NoticeStore(db).notices(since=start)
    symbol = state.servicer(write=False).token_symbol
    msg_id = mail_digest(settings, list(recipients), notices, date, symbol)
    of_day = [n for n in notices if n.chain_timestamp < start + 86_400]
    document = {"day": date.isoformat(), "notices": len(of_day), "message_id": msg_id}
    emit(
        state,
        document,
        lambda c: c.print(
            f"Sent the digest of {date.isoformat()} ({len(of_day)} notices) to "
            f"{', '.join(recipients)}."
        ),
    )
