"""The wording of the e-mails: one template per notice kind, rendered into plain text and HTML.

Templates live in ``templates/email/``: ``kinds/<kind>.txt`` holds a kind's subject (``{% set
subject %}``) and its paragraph (the template's output), written once in plain language;
``base.txt`` and ``base.html`` lay the paragraph out (the HTML escapes it), and ``digest.txt`` /
``digest.html`` are the servicers' daily summary. Amounts are shown with two decimals and the
token's symbol (:func:`loanservicing.amounts.money`), dates as ISO dates.

Kinds without a template (``repayment_held``, ``credit_report_failed``) concern the lender and
the servicer, not the borrower: they are in the digest, never in a borrower's mailbox.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from loanservicing.amounts import iso_date, money
from loanservicing.monitoring.channels import describe
from loanservicing.monitoring.notices import NOTICE_KINDS, Notice

__all__ = [
    "BORROWER_KINDS",
    "RenderedEmail",
    "render_digest",
    "render_notice",
]

TEMPLATES = Path(__file__).resolve().parent / "templates" / "email"
BORROWER_KINDS = tuple(k for k in NOTICE_KINDS if (TEMPLATES / "kinds" / f"{k}.txt").is_file())
"""The kinds a borrower is sent (those with a template)."""

_WIDTH = 72

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Details(dict[str, Any]):
    """Notice details for the templates: a missing key reads as None, not an error."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


def render_notice(
    notice: Notice, symbol: str = "", sender_name: str = "Loan servicing"
) -> RenderedEmail:
    """The subject, plain-text and HTML bodies of ``notice`` for its borrower. ``symbol`` is
    the token's symbol when the notice does not carry one (``details.symbol``)."""
    if notice.kind not in BORROWER_KINDS:
        raise ValueError(f"Notices of kind {notice.kind!r} are not sent to borrowers.")
    shown = str(notice.details.get("symbol") or symbol)

    def amount_of(units: int) -> str:
        return money(int(units), notice.decimals, shown)

    values: dict[str, Any] = {
        "loan": notice.loan_id,
        "amount": amount_of(notice.amount),
        "due": iso_date(notice.due_timestamp)[:10] if notice.due_timestamp else "",
        "dpd": notice.days_past_due,
        "d": _Details(notice.details),
        "money": amount_of,
    }
    module = _environment.get_template(f"kinds/{notice.kind}.txt").make_module(values)
    subject = _one_line(str(getattr(module, "subject")))  # noqa: B009 (set by the template)
    paragraph = _one_line(str(module))
    layout = {
        "subject": subject,
        "loan": notice.loan_id,
        "notice_id": notice.id,
        "chain_date": iso_date(notice.chain_timestamp)[:10],
        "sender_name": sender_name,
    }
    text = _environment.get_template("base.txt").render(
        paragraph=textwrap.fill(paragraph, _WIDTH), **layout
    )
    html = _environment.get_template("base.html").render(paragraph=paragraph, **layout)
    return RenderedEmail(subject, text, html)


def render_digest(
    notices: Sequence[Notice], day: str, symbol: str = "", sender_name: str = "Loan servicing"
) -> RenderedEmail:
    """The servicers' summary of ``notices`` (those of ``day``): counts by kind, in the order
    of NOTICE_KINDS, then one line each: chain time, kind, amount, and what the console
    prints."""
    by_kind = Counter(n.kind for n in notices)
    counts = [(kind, by_kind[kind]) for kind in NOTICE_KINDS if by_kind[kind]]
    counts += [(kind, n) for kind, n in sorted(by_kind.items()) if kind not in NOTICE_KINDS]

    def currency(n: Notice) -> str:
        return str(n.details.get("symbol") or symbol)

    lines = [
        f"{iso_date(n.chain_timestamp)[11:16]}  {n.kind:<20} "
        f"{money(n.amount, n.decimals, currency(n)):>18}  {describe(n, currency(n))}"
        for n in notices
    ]
    total = len(notices)
    subject = f"Loan servicing digest {day}: {total} notice{'' if total == 1 else 's'}"
    values = {
        "subject": subject,
        "day": day,
        "total": total,
        "counts": counts,
        "lines": lines,
        "sender_name": sender_name,
    }
    text = _environment.get_template("digest.txt").render(values)
    html = _environment.get_template("digest.html").render(values)
    return RenderedEmail(subject, text, html)
