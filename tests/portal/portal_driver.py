"""Helpers of the portal tests: a free port, Sign-In with Ethereum messages signed with the dev
keys, a signed-in TestClient, headless chromium with a test wallet, and table reading."""

from __future__ import annotations

import csv
import io
import re
import socket
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from eth_account.messages import encode_defunct
from httpx import Client, Response
from playwright.sync_api import BrowserContext, Page, sync_playwright

from loanservicing.chain.accounts import dev_signer
from loanservicing.demo.data_sharing import DataSharingSummary
from loanservicing.portal.data_sharing import PortalDataSharing
from loanservicing.portal.server import PortalServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from siwe import SiweMessage
    from starlette.testclient import TestClient as TestClient  # for the tests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ANVIL_CHAIN_ID = 31337
REGULATOR = 9
"""The data-sharing scenario's regulator (dev account 9)."""


@dataclass(frozen=True)
class SharedData:
    """The data-sharing scenario's outcome and the portal's view of its deployment."""

    summary: DataSharingSummary
    data: PortalDataSharing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def siwe_text(
    address: str,
    nonce: str,
    domain: str = "testserver",
    uri: str | None = None,
    chain_id: int = ANVIL_CHAIN_ID,
    issued_at: datetime | None = None,
) -> str:
    issued = issued_at or datetime.now(UTC)
    return SiweMessage(
        domain=domain,
        address=address,
        statement="Sign in to the loan servicing portal.",
        uri=uri or f"http://{domain}/",
        version="1",
        chain_id=chain_id,
        nonce=nonce,
        issued_at=issued.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        expiration_time=(issued + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    ).prepare_message()


def sign_text(account: int, text: str) -> str:
    signed = dev_signer(account).local_account().sign_message(encode_defunct(text=text))
    return "0x" + bytes(signed.signature).hex()


def signed_message(client: Client, account: int, **fields: Any) -> tuple[str, str]:
    """A nonce for ``client``'s session, and the message (with ``fields`` changed) signed."""
    address = dev_signer(account).address
    reply = client.get("/siwe/nonce", params={"address": address.lower()})
    assert reply.status_code == 200, reply.text
    assert reply.json()["address"] == address
    text = siwe_text(address, fields.pop("nonce", reply.json()["nonce"]), **fields)
    return text, sign_text(account, text)


def post_sign_in(client: Client, text: str, signature: str) -> Response:
    return client.post("/siwe/verify", json={"message": text, "signature": signature})


def sign_in(client: Client, account: int, **fields: Any) -> Response:
    reply = post_sign_in(client, *signed_message(client, account, **fields))
    assert reply.status_code == 200, reply.text
    return reply


# ---------------------------------------------------------------------------- the browser


@contextmanager
def browser_context() -> Iterator[BrowserContext]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                accept_downloads=True, viewport={"width": 1280, "height": 900}
            )
            yield context
        finally:
            browser.close()


_WALLET = """
window.ethereum = {
  async request({ method, params }) {
    if (method === "eth_requestAccounts") return [window.__testAccount];
    if (method === "personal_sign") return await window.testWalletSign(params[0]);
    throw new Error("unsupported " + method);
  },
};
"""


def install_wallet(context: BrowserContext, account: int) -> None:
    """A wallet in every page of ``context``: dev account ``account`` signs with its key
    (``personal_sign`` of the hex-encoded message)."""
    address = dev_signer(account).address.lower()

    def sign(hex_message: str) -> str:
        return sign_text(account, bytes.fromhex(hex_message[2:]).decode())

    context.expose_function("testWalletSign", sign)
    context.add_init_script(f"window.__testAccount = {address!r};" + _WALLET)


def browser_sign_in(page: Page, base_url: str, landing: str) -> None:
    page.goto(base_url + "/sign-in")
    page.click("#sign-in")
    page.wait_for_url(base_url + landing, timeout=10_000)


def page_table(page: Page, name: str) -> list[list[str]]:
    """The header and rows of the page's table ``name``, as text."""
    rows: list[list[str]] = page.eval_on_selector(
        f'table[data-table="{name}"]',
        """t => [...t.querySelectorAll("tr")].filter(r => !r.classList.contains("empty"))
               .map(r => [...r.children].map(c => c.textContent.trim()))""",
    )
    return rows


def wait_indexed(server: PortalServer, block: int, timeout: float = 10.0) -> None:
    """Wait until the portal's follower has indexed ``block``."""
    deadline = time.monotonic() + timeout
    while server.follower.indexer.checkpoint()[0] < block:
        assert time.monotonic() < deadline, f"block {block} was not indexed in {timeout} s"
        time.sleep(0.05)


class _Tables(HTMLParser):
    """The cells of every ``table[data-table]`` of a page, by table name."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._empty = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "table" and named.get("data-table"):
            self._table = named["data-table"]
            self.tables[self._table or ""] = []
        elif tag == "tr" and self._table is not None:
            self._row, self._empty = [], named.get("class") == "empty"
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if not self._empty:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def html_tables(page: str) -> dict[str, list[list[str]]]:
    """Header and rows of each table of an HTML page, by its ``data-table`` name."""
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def tables_and_downloads(client: Client, page: str, prefix: str) -> dict[str, list[list[str]]]:
    """The tables of ``page`` (which must answer 200), each checked equal to its CSV download
    at ``prefix + name + .csv``."""
    reply = client.get(page)
    assert reply.status_code == 200, reply.text
    tables = html_tables(reply.text)
    assert tables
    for name, rows in tables.items():
        download = client.get(f"{prefix}{name}.csv")
        assert download.status_code == 200, (name, download.text)
        assert download.headers["content-type"].startswith("text/csv")
        assert csv_rows(download.text) == rows, name
    return tables


def csrf_of(page: str) -> str:
    """The CSRF token of the first form of an HTML page."""
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)
