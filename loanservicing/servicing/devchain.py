"""What only a dev chain (Anvil, Hardhat) allows: minting test tokens and moving the clock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.types import RPCEndpoint

from loanservicing.chain.node import increase_time, is_dev_chain
from loanservicing.chain.transactions import send
from loanservicing.servicing.errors import DevChainOnly
from loanservicing.servicing.inputs import Amount, amount_units
from loanservicing.servicing.servicer import Servicer

__all__ = ["advance_time", "faucet", "require_dev_chain"]


def require_dev_chain(w3: Web3, what: str) -> None:
    """DevChainOnly unless the node is a dev chain; ``what`` names the request."""
    if not is_dev_chain(w3):
        raise DevChainOnly(f"{what} works only on a dev chain (Anvil, Hardhat).")


def faucet(
    servicer: Servicer, account: ChecksumAddress, amount: Amount, ether: int = 10**20
) -> None:
    """Mint ``amount`` test tokens (``int`` units or ``Decimal`` tokens) to ``account`` and
    top up its ether (dev chains only)."""
    amount = amount_units(amount, servicer.token_decimals)
    w3 = servicer.w3
    require_dev_chain(w3, "The faucet")
    if not servicer.deployment.test_token:
        raise DevChainOnly("The faucet mints only the TestStablecoin deployed with the system.")
    owner = Web3.to_checksum_address(servicer.token.functions.owner().call())
    if int(w3.eth.get_balance(account)) < ether:
        _request(w3, "hardhat_setBalance", [account, hex(ether)])
    mint = servicer.token.functions.mint(account, amount)
    own = servicer.sender_of(owner)
    if own is not None:
        own.send(mint, "Minting test tokens")
        return
    # The token's owner is not an account of ours: the dev node signs for it.
    _request(w3, "hardhat_impersonateAccount", [owner])
    send(w3, mint, owner, servicer.decoder, "Minting test tokens")


def advance_time(servicer: Servicer, seconds: int) -> int:
    """Move the dev chain's clock forward and mine a block; returns the new time."""
    require_dev_chain(servicer.w3, "Time travel")
    increase_time(servicer.w3, seconds)
    return servicer.now()


def _request(w3: Web3, method: str, params: Sequence[Any]) -> Any:
    return w3.manager.request_blocking(RPCEndpoint(method), list(params))
