from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3
from web3.types import RPCEndpoint

from loanservicing.chain.accounts import (
    Signer,
    TransactionSender,
    dev_signer,
    signer_from_env,
    signer_from_key,
    signer_from_keystore,
)
from loanservicing.chain.errors import AccountError
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.compile import ContractArtifact

KEY = "0x" + "11" * 32
KEY_ADDRESS = Account.from_key(KEY).address


def test_dev_signers_are_anvils_accounts(w3: Web3) -> None:
    assert [dev_signer(i).address for i in range(3)] == w3.eth.accounts[:3]
    assert KEY not in repr(dev_signer(0))


def test_private_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", KEY)
    signer = signer_from_env("MY_KEY")
    assert signer.address == KEY_ADDRESS
    assert KEY[2:] not in repr(signer)
    monkeypatch.setenv("MY_KEY", "0xnot-a-key-" + "ab" * 10)
    with pytest.raises(AccountError) as info:
        signer_from_env("MY_KEY")
    assert "ab" * 10 not in str(info.value)
    with pytest.raises(AccountError, match="NOT_SET holding the private key is not set"):
        signer_from_env("NOT_SET")


def test_keystore_with_password_from_env_or_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(Account.encrypt(KEY, "secret", iterations=2)))
    monkeypatch.setenv("LOANSERVICING_KEYSTORE_PASSWORD", "secret")
    assert signer_from_keystore(path).address == KEY_ADDRESS
    monkeypatch.delenv("LOANSERVICING_KEYSTORE_PASSWORD")
    assert signer_from_keystore(path, prompt=lambda _: "secret").address == KEY_ADDRESS
    with pytest.raises(AccountError, match="wrong password"):
        signer_from_keystore(path, password="nope")
    with pytest.raises(AccountError, match="cannot be read"):
        signer_from_keystore(tmp_path / "missing.json", password="x")


def test_sender_signs_eip1559_with_counted_nonces(
    w3: Web3, artifacts: dict[str, ContractArtifact]
) -> None:
    signer = _funded_key_signer(w3)
    sender = TransactionSender(w3, signer, revert_decoder(artifacts))
    token = w3.eth.contract(
        abi=artifacts["TestStablecoin"].abi, bytecode=artifacts["TestStablecoin"].bytecode
    )
    receipt = sender.deploy(token.constructor("T", "T", 6, signer.address), "Deploying")
    address = receipt["contractAddress"]
    assert address is not None
    deployed = w3.eth.contract(address=address, abi=artifacts["TestStablecoin"].abi)
    hashes = [
        sender.submit(deployed.functions.mint(signer.address, i + 1), gas=100_000) for i in range(5)
    ]
    receipts = [sender.wait(h) for h in hashes]
    assert [r["status"] for r in receipts] == [1] * 5
    tx = w3.eth.get_transaction(hashes[-1])
    assert tx["type"] == 2 and tx["nonce"] == 5
    assert deployed.functions.balanceOf(signer.address).call() == 15


def _funded_key_signer(w3: Web3) -> Signer:
    """A key that is not a dev account, funded with ether on the dev chain."""
    w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [KEY_ADDRESS, hex(10**20)])
    return signer_from_key(KEY, "test key")
