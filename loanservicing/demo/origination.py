"""The demo's borrowers, its second lender and their loans: borrowers and the fund derived
from the seed, every loan originated on terms its borrower signed (EIP-712), and the
borrowers funded for their interest."""

from __future__ import annotations

from collections import Counter

from eth_account import Account
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.logs import DISCARD

from loanservicing.chain.abi import ORIGINATOR_ROLE, role
from loanservicing.chain.accounts import Signer, TransactionSender
from loanservicing.chain.node import chain_time
from loanservicing.demo.profiles import (
    FORBEAR,
    RESTRUCTURE,
    STOPPER,
    UNIT,
    Borrower,
    DemoLoan,
    draw_profiles,
    draw_terms,
)
from loanservicing.demo.run import MAX_UINT, SMALL_GAS, DemoRun, request
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.borrower_signature import TermsSigner

__all__ = ["FUND_SHARE", "Origination"]

ORIGINATE_GAS = 600_000
FUND_SHARE = 4
"""Every FUND_SHARE-th loan is lent by the fund, the second lender."""


class Origination(DemoRun):
    """Borrowers, the fund, and the loans they sign for."""

    def _borrowers(self) -> list[Borrower]:
        self.reporter.phase(
            f"Creating {self.config.borrowers} borrowers from seed {self.config.seed}"
        )
        borrowers = []
        for i in range(self.config.borrowers):
            key = Web3.keccak(text=f"loanservicing demo seed {self.config.seed} borrower {i}")
            signer = Signer(Account.from_key(key), f"demo borrower {i}")
            request(self.w3, "hardhat_setBalance", [signer.address, hex(10**21)])
            sender = TransactionSender(self.w3, signer, self.servicer.decoder)
            sender.pinned_fees = self.lender.pinned_fees
            borrowers.append(Borrower(i, signer, sender))
        return borrowers

    def _fund(self) -> tuple[TransactionSender, ChecksumAddress]:
        """The second lender (a fund, seed-derived like the borrowers, with the originator
        role) and the treasury address it claims held repayments to."""
        seed = self.config.seed
        key = Web3.keccak(text=f"loanservicing demo seed {seed} fund")
        signer = Signer(Account.from_key(key), "demo fund")
        request(self.w3, "hardhat_setBalance", [signer.address, hex(10**21)])
        sender = TransactionSender(self.w3, signer, self.servicer.decoder)
        sender.pinned_fees = self.lender.pinned_fees
        grant = self.servicer.ledger.functions.grantRole(role(ORIGINATOR_ROLE), signer.address)
        self.lender.send(grant, "Granting the fund the originator role", gas=SMALL_GAS)
        self.transactions += 1
        treasury = Account.from_key(Web3.keccak(text=f"loanservicing demo seed {seed} treasury"))
        return sender, treasury.address

    def _originate(self) -> None:
        n = self.config.loans
        self.reporter.phase(
            f"Originating {n} loans (annuity, equal-principal, bullet), each on terms its "
            "borrower signed (EIP-712)"
        )
        profiles = draw_profiles(n, self.rng)
        plans = []
        for i in range(n):
            borrower = (
                self.borrowers[i % len(self.borrowers)]
                if i < len(self.borrowers)
                else (self.rng.choice(self.borrowers))
            )
            lender = self.fund if i % FUND_SHARE == FUND_SHARE - 1 else self.lender
            plans.append(
                (borrower, lender, draw_terms(i, borrower, self.rng, self.start), profiles[i])
            )
        lent: Counter[str] = Counter()
        for _, lender, terms, _ in plans:
            lent[lender.address] += terms.principal
        token, ledger = self.servicer.token, self.servicer.ledger
        setup = []
        for sender in (self.lender, self.fund):
            mint = token.functions.mint(sender.address, lent[sender.address])
            setup.append((self.lender, self.lender.submit(mint, gas=SMALL_GAS)))
            approve = token.functions.approve(ledger.address, MAX_UINT)
            setup.append((sender, sender.submit(approve, gas=SMALL_GAS)))
        self._wait_all(setup)
        # Every borrower signs its terms for its lender with its next nonce; the signatures
        # are made ahead of mining, in the order the originations are sent.
        signer = TermsSigner(ledger)
        deadline = chain_time(self.w3) + DAY
        hashes = []
        for borrower, lender, terms, _ in plans:
            fn = signer.originate(
                borrower.signer.local_account(),
                self.servicer.terms_tuple(terms, terms.first_due_timestamp or 0),
                lender.address,
                deadline,
            )
            hashes.append((lender, lender.submit(fn, "Originating", gas=ORIGINATE_GAS)))
        receipts = self._wait_all(hashes)
        for (borrower, lender, terms, profile), receipt in zip(plans, receipts, strict=True):
            (event,) = ledger.events.LoanOriginated().process_receipt(receipt, errors=DISCARD)
            loan = DemoLoan(int(event["args"]["loanId"]), borrower, profile, lender.address)
            if profile == STOPPER:
                loan.stop_after = self.rng.randint(0, 1)
            elif profile in (RESTRUCTURE, FORBEAR):
                loan.stop_after = 1
            self.loans.append(loan)
            self.counts["originated"] += 1
            self.counts["borrower_signed"] += 1
            self.counts[f"originated_{terms.kind.label}"] += 1
        for loan in self.loans:
            self._plan(loan, 0)
        total = sum(lent.values())
        self.reporter.event(
            f"{n} loans, {self.servicer.show(total)} lent to {len(self.borrowers)} borrowers "
            f"by the lender and a fund ({self.servicer.show(lent[self.fund.address])}); every "
            "borrower signed its terms (EIP-712, with its nonce and a deadline) and the ledger "
            "checked each signature"
        )

    def _fund_borrowers(self) -> None:
        self.reporter.phase("Funding borrowers for interest and approving the ledger")
        token, ledger = self.servicer.token, self.servicer.ledger
        owed: Counter[int] = Counter()
        for loan in self.loans:
            owed[loan.borrower.index] += self.servicer.loan_view(loan.loan_id)["principal"]
        submitted = []
        for b in self.borrowers:
            buffer = owed[b.index] // 2 + 1_000 * UNIT
            submitted.append(
                (
                    self.lender,
                    self.lender.submit(
                        token.functions.mint(b.signer.address, buffer), gas=SMALL_GAS
                    ),
                )
            )
            submitted.append(
                (
                    b.sender,
                    b.sender.submit(
                        token.functions.approve(ledger.address, MAX_UINT), gas=SMALL_GAS
                    ),
                )
            )
        self._wait_all(submitted)
