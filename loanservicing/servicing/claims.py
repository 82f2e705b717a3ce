"""Held repayments: what the ledger holds for a lender whose token refused a transfer, and
the lender's claim of it (to itself or another recipient)."""

from __future__ import annotations

from eth_typing import ChecksumAddress
from web3.logs import DISCARD

from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.transactions import call
from loanservicing.servicing.binding import LedgerBinding
from loanservicing.servicing.errors import InsufficientFunds, InvalidTerms, LedgerRefusal
from loanservicing.servicing.records import Claim

__all__ = ["ZERO_ADDRESS", "ClaimsMixin"]

ZERO_ADDRESS = "0x" + "0" * 40


class ClaimsMixin(LedgerBinding):
    """Reading and claiming held repayments."""

    def claimable(self, lender: ChecksumAddress, token: ChecksumAddress | None = None) -> int:
        """What the ledger holds for ``lender`` in ``token`` (default: the deployment's)."""
        token = token or self.token.address
        return int(call(self.ledger.functions.claimable(lender, token), self.decoder))

    def claim(
        self, to: ChecksumAddress | None = None, token: ChecksumAddress | None = None
    ) -> Claim:
        """Pay this account's held repayments in ``token`` (default: the deployment's) to
        ``to`` (default: this account), as when the token refuses transfers to it."""
        lender = self.account
        token = token or self.token.address
        to = to or lender
        if to == ZERO_ADDRESS:
            raise InvalidTerms("Held repayments cannot be claimed to the zero address.")
        amount = self.claimable(lender, token)
        if amount == 0:
            raise InsufficientFunds(
                f"Nothing is held for {lender} in token {token}, so there is nothing to claim."
            )
        action = f"Claiming the repayments held for {lender}"
        fn = self.ledger.functions.claim(token, to)
        try:
            receipt = self._require_sender().send(fn, action)
        except TransactionReverted as exc:
            if exc.revert is not None and exc.revert.name in ("NothingToClaim", "ZeroAddress"):
                raise self._explained(exc, action) from None
            reason = str(exc.revert) if exc.revert is not None else "no reason given"
            raise LedgerRefusal(
                exc,
                f"{action} was refused: the token refuses to pay {to} ({reason}), so name "
                "another recipient with --to.",
            ) from None
        (event,) = self.ledger.events.Claimed().process_receipt(receipt, errors=DISCARD)
        decimals = self.token_decimals if token == self.token.address else self._decimals(token)
        return Claim(
            lender=lender,
            token=token,
            to=str(event["args"]["to"]),
            amount=int(event["args"]["amount"]),
            decimals=decimals,
            tx_hash=receipt["transactionHash"].to_0x_hex(),
            gas_used=int(receipt["gasUsed"]),
        )

    def _decimals(self, token: ChecksumAddress) -> int:
        bound = self.w3.eth.contract(address=token, abi=self.token.abi)
        return int(bound.functions.decimals().call())
