"""The index's per-event rows: one named row type per table, whose fields are the table's
columns (payments, charges, delinquency-bucket changes, schedule segments, interest rebated at
payoff, repayments held for a lender and claims of them, credit reports that failed, the
admin's token allowlist), as :mod:`loanservicing.indexing.projections` builds them."""

from __future__ import annotations

from typing import NamedTuple

from loanservicing.indexing.codec import DecodedLog

__all__ = [
    "ChargeRow",
    "ClaimRow",
    "CreditReportFailureRow",
    "DelinquencyChangeRow",
    "HoldRow",
    "PaymentRow",
    "RebateRow",
    "SegmentRow",
    "TokenAllowanceRow",
    "position",
]


def position(d: DecodedLog) -> tuple[str, int, int, int, str]:
    """Where a log stands: block hash, log index, block number, timestamp, transaction hash
    (the first columns of the event tables that keep a transaction)."""
    return d.block_hash, d.log_index, d.block_number, d.timestamp, d.tx_hash


class PaymentRow(NamedTuple):
    """A row of ``payments``: one ``RepaymentApplied`` (amounts as decimal text)."""

    block_hash: str
    log_index: int
    block_number: int
    timestamp: int
    tx_hash: str
    loan_id: int
    payer: str
    fees: str
    penalty: str
    interest: str
    principal: str
    amount: str
    principal_outstanding: str
    installments_paid: int
    status: int
    days_past_due: int | None
    """Days past due when the repayment was made (before it); None for a loan not active."""


class ChargeRow(NamedTuple):
    """A row of ``charges``: one ``ChargesAccrued`` (late fee and penalty interest)."""

    block_hash: str
    log_index: int
    block_number: int
    timestamp: int
    loan_id: int
    late_fee: str
    penalty: str
    missed: int
    installments_assessed_late: int
    fees_owed: str
    penalty_owed: str


class DelinquencyChangeRow(NamedTuple):
    """A row of ``delinquency_changes``: one ``DelinquencyBucketChanged``."""

    block_hash: str
    log_index: int
    block_number: int
    timestamp: int
    loan_id: int
    from_bucket: int
    to_bucket: int
    days_past_due: int


class SegmentRow(NamedTuple):
    """A row of ``segments``: a schedule from origination or a restructuring's reset."""

    block_hash: str
    log_index: int
    block_number: int
    loan_id: int
    base_index: int
    installments: int
    base_principal: str
    segment_start: int
    apr_bps: int
    period: int


class RebateRow(NamedTuple):
    """A row of ``rebates``: one ``InterestRebated`` (interest paid ahead credited at payoff)."""

    block_hash: str
    log_index: int
    block_number: int
    timestamp: int
    tx_hash: str
    loan_id: int
    amount: str


class HoldRow(NamedTuple):
    """A row of ``holds``: one ``RepaymentHeld`` (the lender's transfer failed; ``claimable``
    is its balance in the token after it)."""

    block_hash: str
    log_index: int
    block_number: int
    timestamp: int
    tx_hash: str
    loan_id: int
    lender: str
    token: str
    amount: str
    claimable: str


class ClaimRow(NamedTuple):
    """A row of ``claims``: one ``Claimed`` (a lender's held repayments paid to ``recipient``)."""

    block_hash: str
    log_index: int
    block_number: int
    timestamp: int
    tx_hash: str
    lender: str
    token: str
    recipient: str
    amount: str


class CreditReportFailureRow(NamedTuple):
    """A row of ``credit_report_failures``: one ``CreditReportFailed`` (the registry function's
    selector and its revert data, 0x-hex)."""

    block_hash: str
    log_index: int
    block_number: int
    timestamp: int
    tx_hash: str
    loan_id: int
    selector: str
    reason: str


class TokenAllowanceRow(NamedTuple):
    """A row of ``token_allowances``: one ``TokenAllowed``."""

    block_hash: str
    log_index: int
    block_number: int
    token: str
    token_id: int
    decimals: int
    allowed: int
