"""The ``loanservicing`` command: click only (parse, call, render).

This is the one place where the groups and commands are attached to the root group (and the
``loan`` subcommands defined outside :mod:`loanservicing.cli.loans` to the ``loan`` group); the
modules define them and import nothing from here, so each can be imported first.
"""

from __future__ import annotations

from loanservicing.cli.app import cli
from loanservicing.cli.attest import attest, attester
from loanservicing.cli.book_import import loan_import
from loanservicing.cli.bureau import report_metro2
from loanservicing.cli.claims import loan_claim
from loanservicing.cli.consent import consent
from loanservicing.cli.credit import credit
from loanservicing.cli.data import data
from loanservicing.cli.demo import demo
from loanservicing.cli.email import monitor_digest
from loanservicing.cli.index import index_group
from loanservicing.cli.loans import loan
from loanservicing.cli.monitor import monitor_group
from loanservicing.cli.node import chain, deploy, faucet, node
from loanservicing.cli.origination import (
    loan_allow_token,
    loan_create,
    loan_originate,
    loan_quote,
    loan_sign_terms,
)
from loanservicing.cli.payments import payoff, repay
from loanservicing.cli.policy import policy
from loanservicing.cli.portfolio import portfolio
from loanservicing.cli.relief import loan_forbear, loan_holiday
from loanservicing.cli.report import report
from loanservicing.cli.restructure import loan_restructure
from loanservicing.cli.risk_reports import report_ifrs9, report_roll_rates, report_vintages
from loanservicing.cli.serve import serve
from loanservicing.cli.statement import loan_statement_command
from loanservicing.cli.vault import vault

__all__ = ["cli", "main"]

for loan_command in (
    # origination (`loan create`, with --dry-run) and its quote
    loan_create,
    loan_quote,
    # signed origination and the token allowlist
    loan_sign_terms,
    loan_originate,
    loan_allow_token,
    # restructuring, held repayments
    loan_restructure,
    loan_claim,
    # relief: payment holidays, forbearance
    loan_holiday,
    loan_forbear,
    # the statement of a loan over a period
    loan_statement_command,
    # boarding a loan book
    loan_import,
):
    loan.add_command(loan_command)

for command in (
    # the node, the deployment, the dev chain
    node,
    deploy,
    chain,
    faucet,
    # loans
    loan,
    repay,
    payoff,
    credit,
    portfolio,
    # the event index, the monitor, reports
    index_group,
    monitor_group,
    report,
    serve,
    # data sharing
    data,
    attester,
    attest,
    consent,
    policy,
    vault,
    # the simulation
    demo,
):
    cli.add_command(command)

report.add_command(report_metro2)
monitor_group.add_command(monitor_digest)

# credit-risk reports beside the ones cli/report.py defines
for report_command in (report_roll_rates, report_vintages, report_ifrs9):
    report.add_command(report_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="loanservicing")
