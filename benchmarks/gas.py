"""Gas report: the whole-transaction gas of the servicing operations, on a local Anvil.

Run: ``.venv/bin/python benchmarks/gas.py`` (or ``make gas``). Prints two tables (gas, and the
runtime size of each deployed contract against the EIP-170 limit), then as the last line one
JSON object with the gas of ``originate`` (with disbursement and the borrower's EIP-712
signature checked: every origination here is signed by its borrower), ``repay_on_time`` (one
installment), ``repay_late`` (installment plus late fee and penalty), ``repay_final`` (closes
the loan), ``assess``, ``declare_default``, ``propose_restructure``, ``accept_restructure``
(naming the proposal's terms), ``withdraw_restructure``, ``propose_holiday``,
``accept_holiday`` (three installments of a monthly mortgage skipped), the repayments after it,
``forbear`` (a new forbearance, reported to the credit registry) and ``forbear_extend``,
``repay_on_time_monthly_359`` and ``repay_final_monthly`` (the last two installments of a
30-year mortgage paid on every due date),
plus the reference ``erc20_transfer_from`` and the repayment gas of loans with 12 and 360
installments and of the 1st and 200th loan (which must not differ: no loop over installments or
loans), and under ``runtime_size`` the deployed size in bytes of each contract.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from web3 import Web3

from rich.console import Console
from rich.table import Table
from web3.contract import Contract
from web3.logs import DISCARD

from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.chain.node import AnvilNode, chain_time, set_next_timestamp
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.transactions import send
from loanservicing.deployment.bindings import bind, revert_decoder
from loanservicing.deployment.compile import ContractArtifact, compile_contracts
from loanservicing.deployment.deploy import deploy_system
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.servicing.borrower_signature import PLAIN_CALENDAR, TermsSigner

PERIOD = 30 * DAY
UNIT = 10**6
TARGETS = {
    "repay_on_time": 80_000,
    "originate": 190_000,
    "repay_on_time_monthly": 85_000,
    "repay_on_time_monthly_359": 85_000,
}
LABELS = {
    "originate": "originate (borrower's EIP-712 signature checked)",
    "originate_first_loan": "originate_first_loan (signature checked)",
}
SIZE_LIMIT = 24_576  # EIP-170: the largest runtime code a contract may deploy
SIZE_TARGETS = {"LoanLedger": 23_000}


class Bench:
    """Drives the deployed system at chosen timestamps and records gas."""

    def __init__(self, w3: Web3, ledger: Contract, token: Contract, decoder: RevertDecoder) -> None:
        self.w3, self.ledger, self.token, self.decoder = w3, ledger, token, decoder
        self.accounts = list(w3.eth.accounts)
        self.lender = self.accounts[0]
        self.signatures = TermsSigner(ledger)

    def tx(self, fn: Any, sender: str, at: int | None = None) -> int:
        if at is not None:
            set_next_timestamp(self.w3, at)
        receipt = send(self.w3, fn, sender, self.decoder, gas=None if at is None else 3_000_000)  # type: ignore[arg-type]
        return int(receipt["gasUsed"])

    def fund(self, account: str, amount: int) -> None:
        self.tx(self.token.functions.mint(account, amount), self.lender)
        self.tx(self.token.functions.approve(self.ledger.address, 2**256 - 1), account)

    def originate(
        self,
        borrower: str,
        installments: int = 12,
        kind: ScheduleKind = ScheduleKind.ANNUITY,
        monthly: bool = False,
    ) -> tuple[int, int, int]:
        """Returns (loan id, gas, origination time). Monthly: 250,000 at 6.5 % over
        ``installments`` calendar months, 30/360, installments in cents, first due on the
        first of the month after next (an odd first period)."""
        start = chain_time(self.w3) + 10
        if monthly:
            month = cal.month_of(start // DAY) + 2
            first_due = cal.day_end(cal.day_in_month(month, 1), 0)
            principal, apr, period, calendar = 250_000 * UNIT, 650, 0, (1, 2, 0, 0, 4)
        else:
            first_due = start + PERIOD
            principal, apr, period, calendar = 12_000 * UNIT, 1200, PERIOD, PLAIN_CALENDAR
        terms = (
            borrower,
            self.token.address,
            principal,
            apr,
            installments,
            period,
            first_due,
            int(kind),
            5 * DAY,
            500,
            600,
            60,
            *calendar,
        )
        # The borrower (a dev account) signs the terms for the lender with its next nonce.
        key = dev_signer(self.accounts.index(borrower)).local_account()
        fn = self.signatures.originate(key, terms, self.lender, start + DAY)  # type: ignore[arg-type]
        set_next_timestamp(self.w3, start)
        receipt = send(self.w3, fn, self.lender, self.decoder, gas=3_000_000)  # type: ignore[arg-type]
        (event,) = self.ledger.events.LoanOriginated().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["loanId"]), int(receipt["gasUsed"]), start

    def installment_total(self, loan_id: int, number: int) -> int:
        _, principal, interest = self.ledger.functions.installment(loan_id, number).call()
        return int(principal + interest)

    def past_due(self, loan_id: int, at: int) -> int:
        return int(self.ledger.functions.amountDue(loan_id, at).call()[7])

    def repay(self, loan_id: int, amount: int, payer: str, at: int) -> int:
        return self.tx(self.ledger.functions.repay(loan_id, amount), payer, at=at)


def runtime_sizes(artifacts: dict[str, ContractArtifact]) -> dict[str, int]:
    """Runtime size of every contract the system deploys (not the test contracts), by name.
    Internal libraries (no ABI) and interfaces (no code) are never deployed on their own."""
    return {
        name: artifact.runtime_size
        for name, artifact in sorted(artifacts.items())
        if artifact.abi
        and artifact.runtime_size > 0
        and not artifact.source_path.startswith("contracts/test/")
    }


def measure(artifacts: dict[str, ContractArtifact]) -> dict[str, int]:
    with AnvilNode(accounts=20) as node:
        w3 = Web3(Web3.HTTPProvider(node.rpc_url))
        sender = TransactionSender(w3, dev_signer(0), revert_decoder(artifacts))
        deployed = bind(w3, deploy_system(sender, artifacts), artifacts)
        b = Bench(w3, deployed.ledger, deployed.token, revert_decoder(artifacts))
        gas: dict[str, int] = {}
        lender_float = 10_000_000 * UNIT
        b.fund(b.lender, lender_float)
        borrowers = b.accounts[1:8]
        for borrower in borrowers:
            b.fund(borrower, 1_000_000 * UNIT)

        # Reference: a bare ERC20 transferFrom between accounts that already hold tokens, with an
        # unlimited allowance (the same token work a repayment does).
        b.tx(b.token.functions.approve(b.accounts[9], 2**256 - 1), b.lender)
        gas["erc20_transfer_from"] = b.tx(
            b.token.functions.transferFrom(b.lender, borrowers[-1], UNIT), b.accounts[9]
        )

        # Origination: the borrower's first loan (no credit record yet) and a repeat borrower.
        loan, gas["originate_first_loan"], start = b.originate(borrowers[0])
        loan2, gas["originate"], start2 = b.originate(borrowers[0])

        # Final repayment: payoff of the second loan a day after origination.
        t0 = start2 + DAY
        payoff = b.ledger.functions.amountDue(loan2, t0).call()[8]
        gas["repay_final"] = b.repay(loan2, payoff, borrowers[0], t0)

        # On-time repayment of the first installment, then of the second.
        t1 = start + PERIOD - DAY
        gas["repay_on_time_first"] = b.repay(loan, b.installment_total(loan, 1), borrowers[0], t1)
        t2 = start + 2 * PERIOD - DAY
        gas["repay_on_time"] = b.repay(loan, b.installment_total(loan, 2), borrowers[0], t2)

        # Late: installment 3 paid 10 days after its grace ended (late fee + penalty accrue).
        t3 = start + 3 * PERIOD + 15 * DAY
        gas["repay_late"] = b.repay(loan, b.past_due(loan, t3), borrowers[0], t3)

        # Keeper assess when installment 4 passes its grace period unpaid.
        t4 = start + 4 * PERIOD + 6 * DAY
        gas["assess"] = b.tx(b.ledger.functions.assess(loan), b.accounts[9], at=t4)

        # Default of the first loan once 60 days past due.
        t6 = start + 4 * PERIOD + 61 * DAY
        gas["declare_default"] = b.tx(b.ledger.functions.declareDefault(loan), b.lender, at=t6)

        # Restructuring of a loan two installments behind: the servicer proposes, the borrower
        # accepts a day later.
        behind, _, r_start = b.originate(borrowers[6])
        t7 = r_start + 2 * PERIOD + 10 * DAY
        proposal = (900, 24, PERIOD, t7 + 7 * DAY)
        propose = b.ledger.functions.proposeRestructure(behind, *proposal)
        gas["propose_restructure"] = b.tx(propose, b.lender, at=t7)
        accept = b.ledger.functions.acceptRestructure(behind, *proposal)  # the terms it saw
        gas["accept_restructure"] = b.tx(accept, borrowers[6], at=t7 + DAY)
        # A proposal withdrawn by the servicer.
        again = b.ledger.functions.proposeRestructure(behind, 800, 24, PERIOD, t7 + 9 * DAY)
        b.tx(again, b.lender, at=t7 + 2 * DAY)
        withdraw = b.ledger.functions.withdrawRestructure(behind)
        gas["withdraw_restructure"] = b.tx(withdraw, b.lender, at=t7 + 3 * DAY)

        # Independence from the number of installments and of loans.
        short, _, s_start = b.originate(borrowers[1], installments=12)
        long, _, l_start = b.originate(borrowers[2], installments=360)
        for _ in range(200):
            b.originate(borrowers[3])
        last, _, last_start = b.originate(borrowers[4])
        at = max(s_start, l_start, last_start) + PERIOD - DAY
        gas["repay_on_time_12_installments"] = b.repay(
            short, b.installment_total(short, 1), borrowers[1], at
        )
        gas["repay_on_time_360_installments"] = b.repay(
            long, b.installment_total(long, 1), borrowers[2], at + 1
        )
        gas["repay_on_time_loan_204"] = b.repay(
            last, b.installment_total(last, 1), borrowers[4], at + 2
        )
        for kind in (ScheduleKind.EQUAL_PRINCIPAL, ScheduleKind.BULLET):
            loan_k, _, k_start = b.originate(borrowers[5], kind=kind)
            gas[f"repay_on_time_{kind.label}"] = b.repay(
                loan_k, b.installment_total(loan_k, 1), borrowers[5], k_start + PERIOD - DAY
            )

        # A 30-year mortgage due monthly (30/360, installments in cents, an odd first period):
        # origination, then its first and second installments paid on their due dates.
        mortgage, gas["originate_monthly_30_360"], _ = b.originate(
            borrowers[5], installments=360, monthly=True
        )
        for n, name in ((1, "repay_on_time_monthly_first"), (2, "repay_on_time_monthly")):
            due = int(b.ledger.functions.installment(mortgage, n).call()[0])
            gas[name] = b.repay(mortgage, b.installment_total(mortgage, n), borrowers[5], due)

        # A payment holiday on the mortgage: installments 3-5 skipped (proposed by the servicer,
        # accepted by the borrower), then the first installment after it and the next.
        t_h = int(b.ledger.functions.installment(mortgage, 2).call()[0]) + DAY
        holiday = (mortgage, 3, 3, t_h + 7 * DAY)
        gas["propose_holiday"] = b.tx(b.ledger.functions.proposeHoliday(*holiday), b.lender, at=t_h)
        gas["accept_holiday"] = b.tx(
            b.ledger.functions.acceptHoliday(*holiday), borrowers[5], at=t_h + DAY
        )
        for n, name in ((6, "repay_after_holiday_first"), (7, "repay_after_holiday")):
            due = int(b.ledger.functions.installment(mortgage, n).call()[0])
            gas[name] = b.repay(mortgage, b.installment_total(mortgage, n), borrowers[5], due)

        # Forbearance on the mortgage for 60 days from the day after installment 7's due date
        # (a new window, reported to the credit registry), then extended by 30 days.
        t_f = int(b.ledger.functions.installment(mortgage, 7).call()[0]) + DAY
        first = cal.local_day(t_f, 0)
        gas["forbear"] = b.tx(
            b.ledger.functions.forbear(mortgage, first, first + 59), b.lender, at=t_f
        )
        gas["forbear_extend"] = b.tx(
            b.ledger.functions.forbear(mortgage, first, first + 89), b.lender, t_f + DAY
        )

        # Late in a mortgage's life: a second 30-year mortgage paid on each due date, with
        # installment 359 and the final (closing) installment 360 measured.
        late_life, _, _ = b.originate(borrowers[3], installments=360, monthly=True)
        for n in range(1, 361):
            due = int(b.ledger.functions.installment(late_life, n).call()[0])
            used = b.repay(late_life, b.installment_total(late_life, n), borrowers[3], due)
            if n == 359:
                gas["repay_on_time_monthly_359"] = used
            elif n == 360:
                gas["repay_final_monthly"] = used
        return gas


def main() -> None:
    artifacts = compile_contracts()
    gas = measure(artifacts)
    sizes = runtime_sizes(artifacts)
    table = Table(title="Gas per transaction (whole transaction, Anvil, solc 0.8.28)")
    table.add_column("operation")
    table.add_column("gas", justify="right")
    table.add_column("target", justify="right")
    for name, value in gas.items():
        target = TARGETS.get(name)
        mark = (
            "" if target is None else (f"≤ {target:,} " + ("ok" if value <= target else "MISSED"))
        )
        table.add_row(LABELS.get(name, name), f"{value:,}", mark)
    sizes_table = Table(title=f"Runtime size (EIP-170 limit {SIZE_LIMIT:,} bytes)")
    sizes_table.add_column("contract")
    sizes_table.add_column("bytes", justify="right")
    sizes_table.add_column("headroom", justify="right")
    sizes_table.add_column("target", justify="right")
    for name, size in sizes.items():
        size_target = SIZE_TARGETS.get(name)
        mark = (
            ""
            if size_target is None
            else (f"≤ {size_target:,} " + ("ok" if size <= size_target else "MISSED"))
        )
        sizes_table.add_row(name, f"{size:,}", f"{SIZE_LIMIT - size:,}", mark)
    console = Console(stderr=True)
    console.print(table)
    console.print(sizes_table)
    sys.stdout.write(json.dumps({**gas, "runtime_size": sizes}) + "\n")


if __name__ == "__main__":
    main()
