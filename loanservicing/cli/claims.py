"""``loan claim``: a lender claims the repayments the ledger held for it; attached to the
``loan`` group in :mod:`loanservicing.cli`."""

from __future__ import annotations

import click
from eth_typing import ChecksumAddress
from web3 import Web3

from loanservicing.amounts import money
from loanservicing.cli.app import state_of
from loanservicing.cli.options import ADDRESS, account_option, json_option
from loanservicing.cli.output import emit

__all__ = ["loan_claim"]


@click.command("claim")
@click.option("--to", "to", type=ADDRESS, help="Recipient (default: the signing account).")
@click.option("--token", "token", type=ADDRESS, help="Token (default: the deployment's).")
@account_option
@json_option
@click.pass_context
def loan_claim(
    ctx: click.Context, to: ChecksumAddress | None, token: ChecksumAddress | None
) -> None:
    """Claim, as a lender, the repayments the ledger held because their transfer to you failed
    (a token blocklist, for example); --to pays them to another address."""
    state = state_of(ctx)
    servicer = state.servicer()
    result = servicer.claim(to, token)
    document = {
        "lender": result.lender,
        "token": result.token,
        "to": result.to,
        "amount": result.amount,
        "decimals": result.decimals,
        "tx_hash": result.tx_hash,
        "gas_used": result.gas_used,
    }
    symbol = servicer.with_token(Web3.to_checksum_address(result.token)).token_symbol
    emit(
        state,
        document,
        lambda c: c.print(
            f"Claimed {money(result.amount, result.decimals, symbol)} held for {result.lender} "
            f"to {result.to} ({result.tx_hash})."
        ),
    )
