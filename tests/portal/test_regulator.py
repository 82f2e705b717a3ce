"""The regulator's pages over a real chain: the regulator role (the consent registry's) signs
in to portfolio-wide figures, asks for the audit bundle of a block range with the form's CSRF
token, downloads it (zip and file by file) and sees it verified against the chain; lenders and
borrowers get 403; no download route lets a path reach the file system."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from loanservicing.amounts import money
from loanservicing.chain.abi import ORIGINATOR_ROLE, role
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.portal.assembly import audit_desk
from loanservicing.portal.errors import BundleNotFound
from loanservicing.servicing.servicer import Servicer
from loanservicing.sharing.audit import verify_bundle
from tests.portal.portal_driver import (
    REGULATOR,
    SharedData,
    TestClient,
    csrf_of,
    sign_in,
    tables_and_downloads,
)
from tests.support.ledger_driver import UNIT, LedgerDriver

Client = Callable[..., TestClient]


def _bundle(client: TestClient, first: int, last: int) -> str:
    """Ask for the bundle of blocks ``first..last``; its page's path."""
    csrf = csrf_of(client.get("/regulator").text)
    reply = client.post(
        "/regulator/audit",
        data={"csrf": csrf, "from_block": str(first), "to_block": str(last)},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text
    return str(reply.headers["location"])


def test_regulator_sees_every_lender_and_downloads_a_verified_bundle(
    system: LedgerDriver,
    artifacts: dict[str, ContractArtifact],
    portal_client: Client,
    shared_data: SharedData,
    tmp_path: Path,
) -> None:
    fund = system.accounts[7]  # a second lender
    system.send(system.ledger.functions.grantRole(role(ORIGINATOR_ROLE), fund))
    other = system.originate(system.accounts[5], principal=7_000 * UNIT, lender=fund)
    client = portal_client(data=shared_data.data)
    reply = sign_in(client, REGULATOR)
    assert reply.json()["regulator"] is True and reply.json()["redirect"] == "/regulator"
    assert reply.json()["lender"] is False
    tables = tables_and_downloads(client, "/regulator", "/regulator/")
    loans = sum(int(count) for _, count in tables["status"][1:])
    assert loans == len(shared_data.summary.loans) + 1  # both lenders' loans
    totals = dict(tables["totals"][1:])
    assert totals["principal originated"] == money(
        sum(system.loan(i)["principal"] for i in [*shared_data.summary.loans, other]), 6
    )
    assert client.get("/portfolio").status_code == 403  # a regulator is not a lender
    assert client.get(f"/loans/{shared_data.summary.loans[0]}").status_code == 403

    head = system.w3.eth.block_number
    page = _bundle(client, system.block, head)
    shown = client.get(page)
    assert shown.status_code == 200
    assert "The bundle matches the chain" in shown.text

    archive = client.get(page + "/bundle.zip")
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    out = tmp_path / "downloaded"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        names = z.namelist()
        z.extractall(out)
    assert "manifest.json" in names and "loans.csv" in names and "consents.csv" in names
    servicer = Servicer(system.w3, system.deployment, artifacts, None)
    desk = audit_desk(servicer, shared_data.data)
    outcome = verify_bundle(system.w3, out, desk.sources)
    assert outcome.ok, outcome.mismatches
    assert outcome.rows_checked > 0
    one = client.get(page + "/files/loans.csv")
    assert one.status_code == 200 and one.content == (out / "loans.csv").read_bytes()

    # An edited file on the server is caught when the bundle is verified again.
    bundle_id = page.rsplit("/", 1)[1]
    stored = shared_data.data.bundles_dir / bundle_id / "bundle" / "loans.csv"
    stored.write_text(stored.read_text().replace(",5000000000,", ",5000000001,", 1))
    csrf = csrf_of(shown.text)
    again = client.post(page + "/verify", data={"csrf": csrf}, follow_redirects=True)
    assert "mismatches with the chain" in again.text
    assert "SHA-256 does not match" in again.text


def test_lenders_and_borrowers_are_refused_the_regulator_pages(
    portal_client: Client, shared_data: SharedData, system: LedgerDriver
) -> None:
    regulator = portal_client(data=shared_data.data)
    sign_in(regulator, REGULATOR)
    page = _bundle(regulator, system.block, system.w3.eth.block_number)
    for account in (0, 2):  # the lender (and servicer), a borrower
        client = portal_client(data=shared_data.data)
        assert sign_in(client, account).json()["regulator"] is False
        for path in ("/regulator", "/regulator/par.csv", page, page + "/bundle.zip",
                     page + "/files/loans.csv"):  # fmt: skip
            reply = client.get(path)
            assert reply.status_code == 403, (account, path)
            assert "regulator role" in reply.text
        refused = client.post(
            "/regulator/audit", data={"csrf": csrf_of(client.get("/me").text),
                                      "from_block": "0", "to_block": "1"},
        )  # fmt: skip
        assert refused.status_code == 403
    unsigned = portal_client(data=shared_data.data)
    assert unsigned.get("/regulator", follow_redirects=False).headers["location"] == "/sign-in"


def test_bundle_form_needs_csrf_and_downloads_refuse_paths(
    portal_client: Client, shared_data: SharedData, system: LedgerDriver
) -> None:
    client = portal_client(data=shared_data.data)
    sign_in(client, REGULATOR)
    head = system.w3.eth.block_number
    missing = client.post("/regulator/audit", data={"from_block": "0", "to_block": str(head)})
    assert missing.status_code == 403 and "CSRF" in missing.text
    forged = client.post(
        "/regulator/audit", data={"csrf": "forged", "from_block": "0", "to_block": str(head)}
    )
    assert forged.status_code == 403
    bundles = shared_data.data.bundles_dir
    assert not bundles.exists() or not any(bundles.iterdir())  # nothing was exported
    csrf = csrf_of(client.get("/regulator").text)
    beyond = client.post(
        "/regulator/audit", data={"csrf": csrf, "from_block": "0", "to_block": str(head + 50)}
    )
    assert beyond.status_code == 400 and "not within the chain" in beyond.text

    page = _bundle(client, system.block, head)
    bundle_id = page.rsplit("/", 1)[1]
    secret = bundles / "secret.txt"
    secret.write_text("not part of any bundle")
    for path in (
        f"{page}/files/verification.json",  # beside the bundle, not in it
        f"{page}/files/..%2Fverification.json",
        f"{page}/files/..%2F..%2Fsecret.txt",
        f"{page}/files/%2Fetc%2Fpasswd",
        f"{page}/files/....%2F%2Fmanifest.json",
        "/regulator/audit/..%2F..%2Fsecret.txt/bundle.zip",
        "/regulator/audit/../secret.txt/files/manifest.json",
        f"/regulator/audit/{bundle_id.upper()}/bundle.zip",
        "/regulator/audit/%2E%2E/files/secret.txt",
    ):
        reply = client.get(path)
        assert reply.status_code == 404, path
        assert "not part of any bundle" not in reply.text
        assert "requested_by" not in reply.text
    desk = audit_desk(
        Servicer(system.w3, system.deployment, system.artifacts, None), shared_data.data
    )
    for name in ("../verification.json", "../../secret.txt", "/etc/passwd", "manifest.json/."):
        with pytest.raises(BundleNotFound):
            desk.file(bundle_id, name)
    with pytest.raises(BundleNotFound):
        desk.zip("../" + bundle_id)
    assert client.get(f"{page}/files/manifest.json").status_code == 200
