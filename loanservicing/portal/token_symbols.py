"""Each token's symbol, asked of the token (ERC-20 ``symbol()``) the first time a page needs
it and remembered: the index keeps tokens' decimals, not their symbols."""

from __future__ import annotations

import logging
import threading

from eth_utils.address import to_checksum_address
from web3 import Web3

__all__ = ["TokenSymbols"]

logger = logging.getLogger(__name__)

_SYMBOL_ABI = [
    {
        "type": "function",
        "name": "symbol",
        "inputs": [],
        "outputs": [{"name": "", "type": "string"}],
        "stateMutability": "view",
    }
]


class TokenSymbols:
    """``symbols(token)``: the token's symbol (its shortened address when it has none)."""

    def __init__(self, w3: Web3, known: dict[str, str] | None = None) -> None:
        self.w3 = w3
        self._known = {k.lower(): v for k, v in (known or {}).items()}
        self._lock = threading.Lock()

    def __call__(self, token: str) -> str:
        key = token.lower()
        with self._lock:
            if key in self._known:
                return self._known[key]
        contract = self.w3.eth.contract(address=to_checksum_address(token), abi=_SYMBOL_ABI)
        try:
            symbol = str(contract.functions.symbol().call())
        except Exception as exc:  # a token without symbol(), or a node that failed
            logger.warning("The token %s gave no symbol (%s).", token, exc)
            return f"{token[:6]}…{token[-4:]}"
        with self._lock:
            self._known[key] = symbol
        return symbol
