"""The token issuer's blocklist in the demo: a third of the way in the issuer blocks the fund,
the ledger holds the fund's repayments as its claimable balance (RepaymentHeld), and at the
end the fund claims them to its treasury before it is unblocked."""

from __future__ import annotations

from loanservicing.demo.run import SMALL_GAS, DemoRun

__all__ = ["HeldRepayments"]


class HeldRepayments(DemoRun):
    """Blocking the fund, and its claim of what the ledger held for it."""

    def _block_fund(self, day: int) -> None:
        """The token's issuer blocks the fund: the ledger can no longer pay it."""
        block = self.issuer.functions.setBlocked(self.fund.address, True)
        self.lender.send(block, "Blocking the fund", gas=SMALL_GAS)
        self.transactions += 1
        self.reporter.event(
            f"Day {day}: the token's issuer blocks the fund {self.fund.address}; the ledger "
            "holds its repayments for it to claim",
            "warning",
        )

    def _claim_held(self) -> None:
        """The fund claims what the ledger held for it to its treasury (it is still blocked,
        so it names another recipient), then the issuer unblocks it."""
        fund = self.fund.address
        claimable = self.servicer.claimable(fund)
        self.held = {
            "lender": fund,
            "token": self.servicer.token.address,
            "blocked_on_day": self.block_day,
            "repayments_held": self.counts["held_repayments"],
            "claimable": claimable,
            "claimed": 0,
            "claimed_to": None,
            "decimals": self.servicer.token_decimals,
        }
        if claimable:
            self.reporter.event(
                f"The ledger holds {self.servicer.show(claimable)} of repayments for the fund "
                f"(claimable balance, {self.counts['held_repayments']} repayments)"
            )
            fund_servicer = self.servicer.as_account(self.fund.signer)
            fund_servicer.sender = self.fund
            claim = fund_servicer.claim(to=self.treasury)
            self.transactions += 1
            self.held.update(claimed=claim.amount, claimed_to=claim.to)
            self.reporter.event(
                f"The fund claimed {self.servicer.show(claim.amount)} to its treasury {claim.to}",
                "good",
            )
        unblock = self.issuer.functions.setBlocked(fund, False)
        self.lender.send(unblock, "Unblocking the fund", gas=SMALL_GAS)
        self.transactions += 1
