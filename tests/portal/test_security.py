"""What the portal refuses, through Starlette's TestClient on a real index of the session
chain: a replayed or foreign sign-in, an expired or forged session, a form without its CSRF
token, another borrower's loan, a borrower on lender pages, and paths out of the static and
download routes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from loanservicing.chain.accounts import dev_signer
from loanservicing.portal.siwe_sign_in import NonceBook
from tests.portal.portal_driver import (
    TestClient,
    post_sign_in,
    sign_in,
    sign_text,
    signed_message,
    siwe_text,
)
from tests.support.ledger_driver import LedgerDriver

Client = Callable[..., TestClient]


def _signed_out(client: TestClient) -> bool:
    """The session is gone: a page sends the browser to sign in."""
    reply = client.get("/me", follow_redirects=False)
    return reply.status_code == 303 and reply.headers["location"] == "/sign-in"


def test_a_sign_in_works_once(portal_client: Client) -> None:
    client = portal_client()
    text, signature = signed_message(client, 1)
    before = client.cookies["portal_session"]  # the session holding the nonce
    assert post_sign_in(client, text, signature).status_code == 200
    assert client.get("/me").status_code == 200
    # Replayed with the session as it was when it held the nonce: the nonce is used up.
    thief = portal_client()
    thief.cookies.set("portal_session", before)
    reply = post_sign_in(thief, text, signature)
    assert reply.status_code == 401 and "used already" in reply.json()["error"]
    # The same message again, from this session after it asked for a new nonce, and from
    # a fresh client: the nonce was used up.
    client.get("/siwe/nonce", params={"address": "0x" + "11" * 20})
    replayed = post_sign_in(client, text, signature)
    assert replayed.status_code == 401
    other = portal_client()
    other.get("/siwe/nonce", params={"address": "0x" + "11" * 20})
    assert post_sign_in(other, text, signature).status_code == 401
    assert _signed_out(other)


def test_a_nonce_this_session_was_not_given_is_refused(portal_client: Client) -> None:
    victim, attacker = portal_client(), portal_client()
    text, signature = signed_message(attacker, 1)
    victim.get("/siwe/nonce", params={"address": "0x" + "22" * 20})
    reply = post_sign_in(victim, text, signature)
    assert reply.status_code == 401 and "nonce" in reply.json()["error"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"domain": "evil.example"}, "is for evil.example"),
        ({"uri": "http://evil.example/"}, "URI"),
        ({"chain_id": 1}, "chain 1"),
        ({"issued_at": datetime.now(UTC) - timedelta(hours=1)}, "issued"),
    ],
)
def test_a_message_for_another_site_chain_or_time_is_refused(
    portal_client: Client, fields: dict[str, object], reason: str
) -> None:
    client = portal_client()
    reply = post_sign_in(client, *signed_message(client, 1, **fields))
    assert reply.status_code == 401 and reason in reply.json()["error"]
    assert _signed_out(client)


def test_a_request_for_another_host_is_refused(portal_client: Client) -> None:
    """A phishing site's message (for its own domain), posted with its Host header: the
    portal answers to its own names only."""
    client = portal_client()
    text, signature = signed_message(client, 1)
    evil = siwe_text(dev_signer(1).address, "0" * 16, domain="evil.example")
    reply = client.post(
        "/siwe/verify",
        json={"message": evil, "signature": sign_text(1, evil)},
        headers={"host": "evil.example"},
    )
    assert reply.status_code == 400
    assert client.get("/sign-in", headers={"host": "evil.example"}).status_code == 400
    assert post_sign_in(client, text, signature).status_code == 200


def test_a_session_ends_at_its_lifetime_however_busy(portal_client: Client) -> None:
    client = portal_client(session_max_age=2)
    sign_in(client, 1)
    for _ in range(5):  # each response refreshes the cookie; the sign-in still ages
        assert client.get("/me").status_code == 200
        time.sleep(0.3)
    time.sleep(1)
    assert _signed_out(client)


def test_a_signature_by_another_key_or_garbage_is_refused(portal_client: Client) -> None:
    client = portal_client()
    text, _ = signed_message(client, 1)
    reply = post_sign_in(client, text, sign_text(2, text))
    assert reply.status_code == 401 and "signature" in reply.json()["error"]
    text, _ = signed_message(client, 1)
    assert post_sign_in(client, text, "0x1234").status_code == 401
    assert post_sign_in(client, "hello", "0x").status_code == 401
    assert client.post("/siwe/verify", content=b"not json").status_code == 400
    assert _signed_out(client)


def test_nonces_are_single_use_and_expire() -> None:
    book = NonceBook(ttl=0.2)
    nonce = book.issue()
    assert book.take(nonce) and not book.take(nonce)
    late = book.issue()
    time.sleep(0.3)
    assert not book.take(late)
    assert not book.take("never-issued")


def test_an_expired_session_is_refused(portal_client: Client) -> None:
    client = portal_client(session_max_age=1)
    sign_in(client, 1)
    assert client.get("/me").status_code == 200
    time.sleep(2.1)
    assert _signed_out(client)


def test_a_forged_cookie_is_refused(portal_client: Client) -> None:
    client = portal_client()
    sign_in(client, 1)
    cookie = client.cookies["portal_session"]
    payload, _, signature = cookie.rpartition(".")
    # A flipped signature, and a session claiming the lender role signed with another key.
    client.cookies.set("portal_session", payload + "." + signature[::-1])
    assert _signed_out(client)
    forger = portal_client(session_secret="not the portal's secret")
    sign_in(forger, 0)
    client.cookies.set("portal_session", forger.cookies["portal_session"])
    assert _signed_out(client)
    assert client.get("/portfolio", follow_redirects=False).status_code == 303


def test_sign_out_needs_its_csrf_token(portal_client: Client) -> None:
    client = portal_client()
    sign_in(client, 1)
    assert client.post("/sign-out", data={}).status_code == 403
    assert client.post("/sign-out", data={"csrf": "guessed"}).status_code == 403
    assert client.get("/me").status_code == 200  # still signed in
    page = client.get("/me").text
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    reply = client.post("/sign-out", data={"csrf": token}, follow_redirects=False)
    assert reply.status_code == 303
    assert _signed_out(client)


def test_borrowers_see_only_their_loans_and_no_lender_page(
    system: LedgerDriver, portal_client: Client
) -> None:
    mine = system.originate(system.accounts[1])
    theirs = system.originate(system.accounts[2])
    client = portal_client()
    sign_in(client, 1)
    assert client.get(f"/loans/{mine}").status_code == 200
    assert client.get(f"/loans/{mine}/schedule.csv").status_code == 200
    for path in (
        f"/loans/{theirs}",
        f"/loans/{theirs}/live",
        f"/loans/{theirs}/schedule.csv",
        "/portfolio",
        "/portfolio/par.csv",
        "/collections",
        "/collections/collections.csv",
    ):
        assert client.get(path).status_code == 403, path
    lender = portal_client()
    assert sign_in(lender, 0).json()["lender"] is True
    assert lender.get(f"/loans/{theirs}").status_code == 200
    assert lender.get("/portfolio").status_code == 200
    for path in ("/portfolio", f"/loans/{mine}", "/me/loans.csv"):
        assert portal_client().get(path, follow_redirects=False).status_code == 303, path


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/static/....//app.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/loans/1/..%2f..%2fapp.py.csv",
        "/loans/1/%2e%2e.csv",
        "/portfolio/..%2f..%2fsettings.py.csv",
        "/me/..%2f..%2f..%2fetc%2fpasswd.csv",
        "/collections/%2e%2e%2fapp.py.csv",
    ],
)
def test_paths_out_of_static_and_downloads_are_refused(
    system: LedgerDriver, portal_client: Client, path: str
) -> None:
    system.originate(system.accounts[1])
    client = portal_client()
    sign_in(client, 0)
    reply = client.get(path, follow_redirects=False)
    assert reply.status_code in (400, 403, 404), (path, reply.status_code)
    assert "import" not in reply.text and "root:" not in reply.text
    assert client.get("/static/portal.css").status_code == 200


def test_pages_carry_a_strict_content_security_policy(portal_client: Client) -> None:
    reply = portal_client().get("/sign-in")
    assert "default-src 'self'" in reply.headers["content-security-policy"]
    assert reply.headers["x-frame-options"] == "DENY"
