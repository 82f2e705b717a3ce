"""The Python API from the package's top level: connect to a node and its deployment, or to a
temporary Anvil; amounts as Decimal tokens or int units; a float or a wrong type is one
sentence, not web3's ABI mismatch."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import loanservicing
from loanservicing import InvalidInput, LoanServicingError, connect, dev_signer, faucet
from loanservicing.chain.node import AnvilNode
from loanservicing.deployment.manifest import Deployment, write_deployment

BORROWER = dev_signer(4)


def test_the_top_level_exports_are_importable() -> None:
    for name in loanservicing.__all__:
        assert getattr(loanservicing, name) is not None, name
    with pytest.raises(AttributeError):
        loanservicing.no_such_thing  # noqa: B018


def test_connect_to_a_node_and_its_deployment_and_wrong_types_are_one_sentence(
    anvil: AnvilNode, deployment: Deployment, tmp_path: Path
) -> None:
    path = tmp_path / "deployment.json"
    write_deployment(path, deployment)
    servicer = connect(anvil.rpc_url, deployment=path)
    assert servicer.ledger.address == deployment.ledger.address
    faucet(servicer, servicer.account, Decimal("5000"))
    faucet(servicer, BORROWER.address, Decimal("100"))
    terms = servicer.loan_terms(
        BORROWER.address,
        Decimal("1200"),
        "12",
        12,
        timedelta(days=30),
        grace=timedelta(days=3),
        first_due=datetime.fromtimestamp(servicer.now() + 40 * 86_400, UTC).date(),
    )
    assert (terms.principal, terms.apr_bps, terms.period_seconds) == (
        1_200_000_000,
        1200,
        2_592_000,
    )
    assert terms.rounding_exp == 4  # whole cents by default
    loan_id = servicer.originate(terms).loan_id
    borrower = servicer.as_account(BORROWER)
    paid = borrower.repay(loan_id, Decimal("10.50"))
    assert paid.total == 10_500_000
    for wrong, fragment in (
        (10.5, "is a float: give an int of the token's smallest units or a Decimal of tokens"),
        ("10.5", "is a str: give an int"),
        (Decimal("0.0000001"), "has more than 6 decimal places"),
    ):
        with pytest.raises(InvalidInput, match=fragment):
            borrower.repay(loan_id, wrong)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="A loan id is an int such as 1, not the str '1'"):
        servicer.loan("1")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="The period 1 day, 12:00:00 must be a whole number"):
        servicer.loan_terms(BORROWER.address, Decimal("1"), "1", 1, timedelta(days=1.5))
    with pytest.raises(InvalidInput, match=r"interest rate 12\.5 is a float"):
        servicer.loan_terms(BORROWER.address, Decimal("1"), 12.5, 1, timedelta(days=1))  # type: ignore[arg-type]
    assert issubclass(InvalidInput, LoanServicingError)


def test_connect_without_a_node_deploys_on_a_temporary_anvil_and_close_stops_it() -> None:
    with connect() as servicer:
        url = str(servicer.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
        assert servicer.loan_count() == 0 and servicer.account == dev_signer(0).address
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # its Anvil is gone
