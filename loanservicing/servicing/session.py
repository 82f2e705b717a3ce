"""A servicer from a node's address: the one way the CLI and Python users find the node, the
deployment and the account to sign with.

    from decimal import Decimal
    from datetime import timedelta
    from loanservicing import connect

    with connect() as servicer:            # a temporary Anvil with a new deployment
        terms = servicer.loan_terms(borrower, Decimal("10000"), "12", 12, timedelta(days=30))
        loan_id = servicer.originate(terms).loan_id
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from web3 import Web3

from loanservicing.chain.accounts import (
    PRIVATE_KEY_ENV,
    Signer,
    TransactionSender,
    dev_signer,
    signer_from_env,
    signer_from_key,
    signer_from_keystore,
)
from loanservicing.chain.node import connect as connect_node
from loanservicing.chain.node import is_dev_chain
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.compile import ContractArtifact, compile_contracts
from loanservicing.deployment.deploy import deploy_system
from loanservicing.deployment.manifest import (
    Deployment,
    default_path,
    read_deployment,
    verify_deployment,
)
from loanservicing.errors import LoanServicingError
from loanservicing.servicing.servicer import Servicer

__all__ = ["choose_signer", "connect", "load_deployment"]

RPC_URL_ENV = "LOANSERVICING_RPC_URL"


def choose_signer(
    w3: Web3,
    *,
    account: int | None = None,
    private_key_env: str | None = None,
    keystore: Path | None = None,
    password: str | None = None,
    prompt: Callable[[str], str] | None = None,
) -> Signer:
    """The account to sign with: the key in ``private_key_env`` or the ``keystore``; on a dev
    chain dev account ``account``; else ``$LOANSERVICING_PRIVATE_KEY`` when set; else, on a
    dev chain, dev account 0."""
    if private_key_env is not None:
        return signer_from_env(private_key_env)
    if keystore is not None:
        return signer_from_keystore(keystore, password, prompt)
    dev = is_dev_chain(w3)
    if account is not None:
        if dev:
            return dev_signer(account)
        raise LoanServicingError(
            "--account selects Anvil's dev accounts, which exist only on dev chains; use "
            "--private-key-env NAME or --keystore FILE on this node."
        )
    if os.environ.get(PRIVATE_KEY_ENV):  # a key set is meant, on a dev chain too
        return signer_from_env(PRIVATE_KEY_ENV)
    if dev:
        return dev_signer(0)
    raise LoanServicingError(
        f"This node is not a dev chain, so name an account: set {PRIVATE_KEY_ENV}, or pass "
        f"--private-key-env NAME or --keystore FILE."
    )


def load_deployment(
    w3: Web3, path: Path | None, artifacts: dict[str, ContractArtifact]
) -> Deployment:
    """The deployment in ``path`` (default ``deployments/<chain id>.json``), checked against
    the node: its contracts are there, with this build's code."""
    path = path or default_path(int(w3.eth.chain_id))
    deployment = read_deployment(path)
    verify_deployment(w3, deployment, artifacts, path)
    return deployment


def connect(
    rpc_url: str | None = None,
    *,
    deployment: Path | str | None = None,
    account: int | None = None,
    private_key: str | None = None,
    keystore: Path | str | None = None,
    password: str | None = None,
) -> Servicer:
    """A servicer for the deployment on the node at ``rpc_url`` (default
    ``$LOANSERVICING_RPC_URL``), signing with ``private_key``, the ``keystore``, dev account
    ``account`` or as :func:`choose_signer` says. Without a node: a temporary Anvil with a new
    deployment, stopped by the servicer's ``close()`` (or the end of a ``with`` block).
    """
    rpc_url = rpc_url or os.environ.get(RPC_URL_ENV) or None
    w3, node = connect_node(rpc_url)
    try:
        artifacts = compile_contracts()
        if private_key is not None:
            signer = signer_from_key(private_key, "the private key given")
        else:
            signer = choose_signer(
                w3,
                account=account,
                keystore=Path(keystore) if keystore is not None else None,
                password=password,
            )
        if node is not None and deployment is None:
            sender = TransactionSender(w3, dev_signer(0), revert_decoder(artifacts))
            found = deploy_system(sender, artifacts)
        else:
            found = load_deployment(w3, Path(deployment) if deployment else None, artifacts)
        servicer = Servicer(w3, found, artifacts, signer)
    except BaseException:
        if node is not None:
            node.stop()
        raise
    if node is not None:
        servicer.on_close(node.stop)
    return servicer
