"""Accounts that sign locally, and a sender that submits their transactions.

Where a key comes from: on a dev chain Anvil's well-known dev key ``N`` (derived from the
public test mnemonic); elsewhere a private key read from an environment variable, or an
encrypted eth-account keystore file. Keys never leave this module: ``Signer`` shows only its
address in ``repr`` and messages.

``TransactionSender`` signs with EIP-1559 fees and explicit nonces it manages itself, sends the
raw transaction and waits for the receipt. Gas is estimated first unless given, so a call that
would revert fails before anything is sent; the revert is decoded into the Solidity error.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    TimeExhausted,
    Web3Exception,
    Web3RPCError,
)
from web3.types import TxReceipt

from loanservicing.chain.errors import AccountError, TransactionReverted
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.transactions import mined_revert
from loanservicing.errors import LoanServicingError

__all__ = [
    "DEV_MNEMONIC",
    "KEYSTORE_PASSWORD_ENV",
    "PRIVATE_KEY_ENV",
    "AccountError",
    "Signer",
    "TransactionSender",
    "dev_signer",
    "signer_from_env",
    "signer_from_keystore",
]

DEV_MNEMONIC = "test test test test test test test test test test test junk"
PRIVATE_KEY_ENV = "LOANSERVICING_PRIVATE_KEY"
KEYSTORE_PASSWORD_ENV = "LOANSERVICING_KEYSTORE_PASSWORD"
RECEIPT_TIMEOUT_S = 120
_REVERTS = (ContractCustomError, ContractPanicError, ContractLogicError)

logger = logging.getLogger(__name__)

Account.enable_unaudited_hdwallet_features()


class Signer:
    """A local account; only its address is ever shown."""

    def __init__(self, account: LocalAccount, label: str) -> None:
        self._account = account
        self.label = label

    @property
    def address(self) -> ChecksumAddress:
        return self._account.address

    def sign(self, tx: dict[str, Any]) -> HexBytes:
        return HexBytes(self._account.sign_transaction(tx).raw_transaction)

    def local_account(self) -> LocalAccount:
        """The key itself, for code that signs in bulk (never print or log it)."""
        return self._account

    def __repr__(self) -> str:
        return f"Signer({self.address}, {self.label})"


_dev_cache: dict[int, LocalAccount] = {}


def dev_signer(index: int) -> Signer:
    """Anvil's (and Hardhat's) dev account ``index``, from the public test mnemonic."""
    if index < 0:
        raise AccountError(f"Account index {index} is negative; dev accounts start at 0.")
    account = _dev_cache.get(index)
    if account is None:
        account = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
        _dev_cache[index] = account
    return Signer(account, f"dev account {index}")


def signer_from_key(key: str, label: str) -> Signer:
    try:
        account = Account.from_key(key.strip())
    except (ValueError, TypeError):
        # The message must not echo the key, not even a malformed one.
        raise AccountError(f"The private key from {label} is not a valid secp256k1 key.") from None
    return Signer(account, label)


def signer_from_env(variable: str = PRIVATE_KEY_ENV) -> Signer:
    """The account whose private key (hex) is in environment variable ``variable``."""
    key = os.environ.get(variable)
    if not key:
        raise AccountError(
            f"The environment variable {variable} holding the private key is not set."
        )
    return signer_from_key(key, f"${variable}")


def signer_from_keystore(
    path: Path,
    password: str | None = None,
    prompt: Callable[[str], str] | None = None,
) -> Signer:
    """The account in an encrypted keystore file; the password comes from ``password``,
    else ``$LOANSERVICING_KEYSTORE_PASSWORD``, else ``prompt`` (default: getpass)."""
    try:
        keyfile = json.loads(path.read_text(encoding="utf8"))
    except OSError as exc:
        raise AccountError(f"The keystore file {path} cannot be read ({exc.strerror}).") from None
    except ValueError:
        raise AccountError(f"The keystore file {path} is not JSON.") from None
    if not isinstance(keyfile, dict) or not {"version", "crypto"} <= {k.lower() for k in keyfile}:
        raise AccountError(
            f"The file {path} is JSON but not an encrypted keystore (Web3 Secret Storage, with "
            "its version and crypto fields)."
        )
    if password is None:
        password = os.environ.get(KEYSTORE_PASSWORD_ENV)
    if password is None:
        password = (prompt or getpass.getpass)(f"Password for keystore {path.name}: ")
    try:
        key = Account.decrypt(keyfile, password)
    except (ValueError, KeyError, TypeError):
        raise AccountError(
            f"The keystore file {path} could not be decrypted: wrong password or damaged file."
        ) from None
    return Signer(Account.from_key(key), f"keystore {path.name}")


LATE_STATE_GAS = 100_000
"""Gas added to every estimate beyond 20 %: the new storage slots a call estimated just before
a grace end or due date may write when mined just after it."""


class TransactionSender:
    """Signs, sends and awaits transactions of one account, with its own nonce counter."""

    def __init__(self, w3: Web3, signer: Signer, decoder: RevertDecoder) -> None:
        self.w3 = w3
        self.signer = signer
        self.decoder = decoder
        self._chain_id: int | None = None
        self._nonce: int | None = None
        self._priority_fee: int | None = None
        self.pinned_fees: tuple[int, int] | None = None
        """Fixed (maxFeePerGas, maxPriorityFeePerGas) for many sends; None: read per send."""

    @property
    def address(self) -> ChecksumAddress:
        return self.signer.address

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def nonce(self) -> int:
        """The next nonce; read from the node once, then counted here."""
        if self._nonce is None:
            self._nonce = int(self.w3.eth.get_transaction_count(self.address, "pending"))
        return self._nonce

    def reset_nonce(self) -> None:
        self._nonce = None

    def fees(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas): twice the latest base fee plus the tip."""
        if self.pinned_fees is not None:
            return self.pinned_fees
        if self._priority_fee is None:
            try:
                self._priority_fee = int(self.w3.eth.max_priority_fee)
            except (Web3Exception, ValueError):
                self._priority_fee = 10**9
        block = self.w3.eth.get_block("latest")
        base_fee = int(block.get("baseFeePerGas", 0) or 0)
        return 2 * base_fee + self._priority_fee, self._priority_fee

    def estimate(self, fn: ContractFunction, action: str = "") -> int:
        """Gas for ``fn`` from this account; a revert raises TransactionReverted (nothing sent)."""
        try:
            gas = int(fn.estimate_gas({"from": self.address}))
        except _REVERTS as exc:
            raise self._decoded(exc, action) from None
        # Headroom: state and time move between the estimate and inclusion. A block mined a
        # second later can cross a grace end or a due date, and then the same call charges a
        # late fee and reports a newly delinquent loan, writing a few new storage slots
        # (22,100 gas each); only the gas used is paid.
        return gas + gas // 5 + LATE_STATE_GAS

    def submit(self, fn: ContractFunction, action: str = "", gas: int | None = None) -> HexBytes:
        """Sign and send ``fn`` without waiting; returns the transaction hash."""
        if gas is None:
            gas = self.estimate(fn, action)
        return self._submit(fn.address, fn._encode_transaction_data(), gas, action)

    def deploy(self, constructor: ContractConstructor, action: str = "") -> TxReceipt:
        """Deploy a contract (``factory.constructor(*args)``) and wait for its receipt."""
        try:
            gas = int(constructor.estimate_gas({"from": self.address}))
        except _REVERTS as exc:
            raise self._decoded(exc, action) from None
        data = constructor.data_in_transaction
        return self.wait(self._submit(None, data, gas + gas // 5, action), None, action)

    def _submit(self, to: str | None, data: Any, gas: int, action: str) -> HexBytes:
        max_fee, priority = self.fees()
        tx: dict[str, Any] = {
            "from": self.address,
            "data": data,
            "value": 0,
            "gas": gas,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": priority,
            "nonce": self.nonce(),
            "chainId": self.chain_id,
            "type": 2,
        }
        if to is not None:
            tx["to"] = to
        raw = self.signer.sign(tx)
        try:
            tx_hash = self.w3.eth.send_raw_transaction(raw)
        except (Web3RPCError, ValueError) as exc:
            self.reset_nonce()
            raise LoanServicingError(
                f"The node refused the transaction ({action or 'no description'}): "
                f"{_rpc_message(exc)}."
            ) from None
        assert self._nonce is not None
        self._nonce += 1
        logger.debug("Sent %s as %s", action or "transaction", tx_hash.to_0x_hex())
        return HexBytes(tx_hash)

    def wait(
        self, tx_hash: HexBytes, fn: ContractFunction | None = None, action: str = ""
    ) -> TxReceipt:
        """The receipt of ``tx_hash``; a failed transaction raises TransactionReverted."""
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=RECEIPT_TIMEOUT_S, poll_latency=0.05
            )
        except TimeExhausted:
            raise LoanServicingError(
                f"{action or 'The transaction'} {tx_hash.to_0x_hex()} was not mined within "
                f"{RECEIPT_TIMEOUT_S} s."
            ) from None
        if receipt["status"] != 1:
            reverted = mined_revert(self.w3, receipt, self.decoder, action)
            if reverted is None:
                reverted = TransactionReverted(None, b"", action)
            raise reverted
        return receipt

    def send(self, fn: ContractFunction, action: str = "", gas: int | None = None) -> TxReceipt:
        """Estimate, sign, send and wait for ``fn``."""
        return self.wait(self.submit(fn, action, gas), fn, action)

    def call(self, fn: ContractFunction, action: str = "") -> Any:
        """``fn.call()`` from this account with reverts decoded."""
        try:
            return fn.call({"from": self.address})
        except _REVERTS as exc:
            raise self._decoded(exc, action) from None

    def _decoded(self, exc: BaseException, action: str) -> TransactionReverted:
        reverted = self.decoder.from_exception(exc, action)
        if reverted is None:  # pragma: no cover - _REVERTS are always decodable
            raise LoanServicingError(str(exc)) from exc
        return reverted


def _rpc_message(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    if isinstance(arg, dict):
        return str(arg.get("message", arg)).rstrip(".")
    return str(arg).rstrip(".")
