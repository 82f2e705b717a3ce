"""The dev-chain sign-in: only when the portal is started with it, only on a dev chain and a
loopback host, only for the accounts it holds the keys of; the message it signs goes through
the wallet's SIWE verification (a used nonce, another session's, are refused as for a
wallet)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from loanservicing.chain.accounts import dev_signer
from loanservicing.cli import cli
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.manifest import write_deployment
from loanservicing.portal.assembly import portal_server
from loanservicing.portal.dev_sign_in import dev_accounts, node_dev_signers
from loanservicing.portal.errors import DevSignInRefused
from loanservicing.portal.server import PortalServer
from loanservicing.servicing.servicer import Servicer
from tests.portal.conftest import make_indexer
from tests.portal.portal_driver import TestClient, browser_context, free_port
from tests.support.ledger_driver import LedgerDriver

Client = Callable[..., TestClient]


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def _dev_sign_in(client: TestClient, address: str) -> tuple[int, str]:
    token = _csrf(client.get("/sign-in").text)
    reply = client.post(
        "/dev-sign-in", data={"csrf": token, "address": address}, follow_redirects=False
    )
    return reply.status_code, reply.headers.get("location", reply.text)


def _signed_out(client: TestClient) -> bool:
    reply = client.get("/me", follow_redirects=False)
    return reply.status_code == 303 and reply.headers["location"] == "/sign-in"


def test_without_the_flag_there_is_no_dev_sign_in(portal_client: Client) -> None:
    client = portal_client()
    page = client.get("/sign-in").text
    assert "Dev chain sign-in" not in page and "/dev-sign-in" not in page
    reply = client.post("/dev-sign-in", data={"csrf": "none", "address": dev_signer(0).address})
    assert reply.status_code == 404
    assert _signed_out(client)


def test_a_dev_account_signs_in_through_siwe(system: LedgerDriver, portal_client: Client) -> None:
    mine = system.originate(system.accounts[1])
    client = portal_client(dev_sign_in=node_dev_signers(3))
    page = client.get("/sign-in").text
    assert "Dev chain sign-in" in page
    for i in range(3):
        assert dev_signer(i).address in page
    assert dev_signer(3).address not in page
    assert _dev_sign_in(client, dev_signer(0).address) == (303, "/portfolio")
    assert client.get("/portfolio").status_code == 200
    # A borrower (the address in any case) lands on their own loans.
    borrower = portal_client(dev_sign_in=node_dev_signers(3))
    assert _dev_sign_in(borrower, dev_signer(1).address.lower()) == (303, "/me")
    assert borrower.get(f"/loans/{mine}").status_code == 200
    assert borrower.get("/portfolio").status_code == 403


def test_a_dev_account_signs_in_from_the_page_in_a_browser(
    system: LedgerDriver, portal: Callable[..., PortalServer], screenshots: Path
) -> None:
    """The page's form, under the portal's content security policy, in headless chromium
    (no wallet in the browser)."""
    system.originate(system.accounts[1])
    server = portal(dev_sign_in=node_dev_signers(3))
    with browser_context() as context:
        page = context.new_page()
        page.goto(server.url + "/sign-in")
        page.screenshot(path=str(screenshots / "dev-sign-in.png"), full_page=True)
        page.click(f'button[value="{dev_signer(0).address}"]')
        page.wait_for_url(server.url + "/portfolio", timeout=10_000)
        assert "servicer" in (page.text_content("header .who") or "")


def test_an_address_that_is_not_a_dev_account_is_refused(portal_client: Client) -> None:
    client = portal_client(dev_sign_in=node_dev_signers(3))
    for address in (dev_signer(5).address, "0x" + "11" * 20, "not an address", ""):
        status, body = _dev_sign_in(client, address)
        assert status == 403, address
        assert "is not one of this dev chain" in body
        assert _signed_out(client)
    # Without the page's CSRF token (a login CSRF from another site) nothing is signed in.
    reply = client.post("/dev-sign-in", data={"address": dev_signer(0).address})
    assert reply.status_code == 403 and _signed_out(client)


def test_the_dev_sign_in_is_refused_on_a_non_loopback_host(
    system: LedgerDriver, artifacts: dict[str, ContractArtifact], tmp_path: Path
) -> None:
    signers = node_dev_signers(2)
    for host, names in (
        ("0.0.0.0", ("portal.example",)),
        ("192.168.1.20", ("192.168.1.20",)),
        ("127.0.0.1", ("127.0.0.1", "portal.example")),
    ):
        with pytest.raises(DevSignInRefused, match="loopback"):
            dev_accounts(True, host, names, signers)
    with pytest.raises(DevSignInRefused, match="not a dev chain"):
        dev_accounts(False, "127.0.0.1", ("127.0.0.1",), signers)
    assert len(dev_accounts(True, "::1", ("localhost", "[::1]"), signers).offered) == 2
    servicer = Servicer(system.w3, system.deployment, artifacts, None)
    indexer = make_indexer(system, tmp_path / "index.db")
    with pytest.raises(DevSignInRefused, match="loopback"):
        portal_server(
            servicer,
            indexer,
            "0.0.0.0",
            free_port(),
            dev_sign_in=signers,
            allowed_hosts=("portal.example",),
        )
    indexer.db.close()


def test_serve_refuses_the_dev_sign_in_off_loopback(system: LedgerDriver, tmp_path: Path) -> None:
    deployment = tmp_path / "deployment.json"
    write_deployment(deployment, system.deployment)
    args = [
        "--rpc-url", system.rpc_url, "--deployment", str(deployment), "serve", "--dev-sign-in",
        "--host", "0.0.0.0", "--allowed-host", "portal.example", "--port", str(free_port()),
        "--db", str(tmp_path / "index.db"),
    ]  # fmt: skip
    result = CliRunner(mix_stderr=False).invoke(cli, args)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "loopback" in lines[0], result.stderr
