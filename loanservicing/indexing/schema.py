"""The event index's schema, one definition for both stores: versioned migrations in SQLite's
DDL, applied in order by :class:`loanservicing.indexing.database.IndexDB` (column types as
described there); :mod:`loanservicing.indexing.connection` translates the few differences
for PostgreSQL (``INTEGER`` as ``BIGINT``, ``WITHOUT ROWID`` dropped)."""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

_MIGRATION_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE checkpoints (
    contract TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash TEXT
);
CREATE TABLE blocks (
    number INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    parent_hash TEXT,
    timestamp INTEGER NOT NULL,
    has_logs INTEGER NOT NULL
);
CREATE TABLE logs (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    tx_index INTEGER NOT NULL,
    address TEXT NOT NULL,
    event TEXT NOT NULL,
    loan_id INTEGER,
    borrower TEXT,
    args TEXT NOT NULL,
    PRIMARY KEY (block_hash, log_index)
) WITHOUT ROWID;
CREATE INDEX logs_by_block ON logs (block_number, log_index);
CREATE INDEX logs_by_loan ON logs (loan_id, block_number, log_index) WHERE loan_id IS NOT NULL;
CREATE INDEX logs_by_borrower ON logs (borrower, block_number, log_index)
    WHERE borrower IS NOT NULL;
CREATE TABLE tokens (address TEXT PRIMARY KEY, decimals INTEGER NOT NULL);
CREATE TABLE loans (
    loan_id INTEGER PRIMARY KEY,
    borrower TEXT NOT NULL,
    lender TEXT NOT NULL,
    token TEXT NOT NULL,
    kind INTEGER NOT NULL,
    status INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    principal TEXT NOT NULL,
    principal_outstanding TEXT NOT NULL,
    installments INTEGER NOT NULL,
    apr_bps INTEGER NOT NULL,
    penalty_apr_bps INTEGER NOT NULL,
    late_fee_bps INTEGER NOT NULL,
    default_after_days INTEGER NOT NULL,
    period INTEGER NOT NULL,
    grace INTEGER NOT NULL,
    base_index INTEGER NOT NULL,
    base_principal TEXT NOT NULL,
    segment_start INTEGER NOT NULL,
    paid_principal TEXT NOT NULL,
    paid_interest TEXT NOT NULL,
    paid_count INTEGER NOT NULL,
    late_count INTEGER NOT NULL,
    last_accrual INTEGER NOT NULL,
    fees TEXT NOT NULL,
    penalty TEXT NOT NULL,
    carried TEXT NOT NULL,
    proposal_apr_bps INTEGER NOT NULL,
    proposal_installments INTEGER NOT NULL,
    proposal_period INTEGER NOT NULL,
    proposal_deadline INTEGER NOT NULL,
    originated_timestamp INTEGER NOT NULL,
    total_paid TEXT NOT NULL,
    closed_after_default INTEGER NOT NULL,
    updated_block INTEGER NOT NULL
);
CREATE INDEX loans_by_borrower ON loans (borrower);
CREATE INDEX loans_by_status_bucket ON loans (status, bucket);
CREATE TABLE segments (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    loan_id INTEGER NOT NULL,
    base_index INTEGER NOT NULL,
    installments INTEGER NOT NULL,
    base_principal TEXT NOT NULL,
    segment_start INTEGER NOT NULL,
    apr_bps INTEGER NOT NULL,
    period INTEGER NOT NULL,
    PRIMARY KEY (block_hash, log_index)
) WITHOUT ROWID;
CREATE INDEX segments_by_loan ON segments (loan_id, block_number, log_index);
CREATE TABLE payments (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    loan_id INTEGER NOT NULL,
    payer TEXT NOT NULL,
    fees TEXT NOT NULL,
    penalty TEXT NOT NULL,
    interest TEXT NOT NULL,
    principal TEXT NOT NULL,
    amount TEXT NOT NULL,
    principal_outstanding TEXT NOT NULL,
    installments_paid INTEGER NOT NULL,
    status INTEGER NOT NULL,
    PRIMARY KEY (block_hash, log_index)
) WITHOUT ROWID;
CREATE INDEX payments_by_loan ON payments (loan_id, block_number, log_index);
CREATE INDEX payments_by_block ON payments (block_number);
CREATE TABLE charges (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    loan_id INTEGER NOT NULL,
    late_fee TEXT NOT NULL,
    penalty TEXT NOT NULL,
    missed INTEGER NOT NULL,
    installments_assessed_late INTEGER NOT NULL,
    fees_owed TEXT NOT NULL,
    penalty_owed TEXT NOT NULL,
    PRIMARY KEY (block_hash, log_index)
) WITHOUT ROWID;
CREATE INDEX charges_by_loan ON charges (loan_id, block_number, log_index);
CREATE TABLE delinquency_changes (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    loan_id INTEGER NOT NULL,
    from_bucket INTEGER NOT NULL,
    to_bucket INTEGER NOT NULL,
    days_past_due INTEGER NOT NULL,
    PRIMARY KEY (block_hash, log_index)
) WITHOUT ROWID;
CREATE INDEX delinquency_by_loan ON delinquency_changes (loan_id, block_number, log_index);
CREATE TABLE credit_records (
    borrower TEXT PRIMARY KEY,
    paid_on_time INTEGER NOT NULL,
    paid_late INTEGER NOT NULL,
    missed INTEGER NOT NULL,
    current_days_past_due INTEGER NOT NULL,
    max_days_past_due INTEGER NOT NULL,
    defaults INTEGER NOT NULL,
    loans_opened INTEGER NOT NULL,
    loans_closed INTEGER NOT NULL,
    total_repaid TEXT NOT NULL,
    updated_block INTEGER NOT NULL
);
"""

# The ledger's payoff to the day and prepaid segments (interest paid ahead), held repayments
# and claims, failed credit reports, the token allowlist, and the registry's per-reporter
# figures and per-loan standing.
_MIGRATION_2 = """
ALTER TABLE loans ADD COLUMN advance TEXT NOT NULL DEFAULT '0';
ALTER TABLE loans ADD COLUMN advance_pending INTEGER NOT NULL DEFAULT 0;
CREATE TABLE rebates (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    loan_id INTEGER NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (block_hash, log_index)
) WITHOUT ROWID;
CREATE INDEX rebates_by_loan ON rebates (loan_id, block_number, log_index);
CREATE TABLE holds (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    loan_id INTEGER NOT NULL,
    lender TEXT NOT NULL,
    token TEXT NOT NULL,
    amount TEXT NOT NULL,
    claimable TEXT NOT NULL,
    PRIMARY KEY (block_hash, log_index)
) WITHOUT ROWID;
CREATE INDEX holds_by_lender ON holds (lender, token, block_number, log_index);
CREATE TABLE claims (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    lender TEXT NOT NULL,
    token TEXT NOT NULL,
    recipient TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (block_hash, log_index)
) WITHOUT ROWID;
CREATE INDEX claims_by_lender ON claims (lender, token, block_number, log_index);
CREATE TABLE credit_report_failures (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    loan_id INTEGER NOT NULL,
    selector TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (block_hash, log_index)
) WITHOUT ROWID;
CREATE INDEX credit_report_failures_by_loan
    ON credit_report_failures (loan_id, block_number, log_index);
CREATE TABLE token_allowances (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    token TEXT NOT NULL,
    token_id INTEGER NOT NULL,
    decimals INTEGER NOT NULL,
    allowed INTEGER NOT NULL,
    PRIMARY KEY (block_hash, log_index)
) WITHOUT ROWID;
CREATE TABLE credit_reporters (
    borrower TEXT NOT NULL,
    reporter TEXT NOT NULL,
    position INTEGER,
    paid_on_time INTEGER NOT NULL,
    paid_late INTEGER NOT NULL,
    missed INTEGER NOT NULL,
    max_days_past_due INTEGER NOT NULL,
    defaults INTEGER NOT NULL,
    loans_opened INTEGER NOT NULL,
    loans_closed INTEGER NOT NULL,
    total_repaid TEXT NOT NULL,
    PRIMARY KEY (borrower, reporter)
) WITHOUT ROWID;
CREATE TABLE credit_standing (
    borrower TEXT NOT NULL,
    reporter TEXT NOT NULL,
    loan_id INTEGER NOT NULL,
    days_past_due INTEGER NOT NULL,
    PRIMARY KEY (borrower, reporter, loan_id)
) WITHOUT ROWID;
"""

# The loan's calendar: calendar months, day count, UTC offset, anchor day, rounding,
# interest-only installments and the odd first period.
_MIGRATION_3 = """
ALTER TABLE loans ADD COLUMN months INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN day_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN utc_offset INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN anchor_day INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN rounding_exp INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN interest_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN odd_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN calendar_month INTEGER NOT NULL DEFAULT 0;
"""

# Payment holidays and forbearance: the periods the interest paid ahead covers, the
# forbearance window (local day numbers), the pending holiday proposal, and the credit
# record's count of forbearances.
_MIGRATION_4 = """
ALTER TABLE loans ADD COLUMN holiday_periods INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN pause_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN pause_to INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN holiday_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN holiday_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN holiday_deadline INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credit_records ADD COLUMN forbearances INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credit_reporters ADD COLUMN forbearances INTEGER NOT NULL DEFAULT 0;
"""

# A repayment's days past due when it was made (the loan's state before it, at its block's
# time); NULL for repayments indexed before this version.
_MIGRATION_5 = """
ALTER TABLE payments ADD COLUMN days_past_due INTEGER;
"""

# Each token's symbol, asked of the token once (NULL: not asked yet, or it answers none), so
# readers of the index alone print amounts with their currency.
_MIGRATION_6 = """
ALTER TABLE tokens ADD COLUMN symbol TEXT;
"""

# Logs keyed in chain order (block number, log index, then the block's hash, which tells a log
# apart from one a reorganisation replaced): an indexer appends at the end of the key instead
# of at random places of a key by block hash, and the separate index by block goes (the key
# is that index now).
_MIGRATION_7 = """
CREATE TABLE logs_v7 (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    tx_index INTEGER NOT NULL,
    address TEXT NOT NULL,
    event TEXT NOT NULL,
    loan_id INTEGER,
    borrower TEXT,
    args TEXT NOT NULL,
    PRIMARY KEY (block_number, log_index, block_hash)
) WITHOUT ROWID;
INSERT INTO logs_v7 (block_hash, log_index, block_number, timestamp, tx_hash, tx_index, address,
    event, loan_id, borrower, args)
    SELECT block_hash, log_index, block_number, timestamp, tx_hash, tx_index, address, event,
        loan_id, borrower, args FROM logs;
DROP TABLE logs;
ALTER TABLE logs_v7 RENAME TO logs;
CREATE INDEX logs_by_loan ON logs (loan_id, block_number, log_index) WHERE loan_id IS NOT NULL;
CREATE INDEX logs_by_borrower ON logs (borrower, block_number, log_index)
    WHERE borrower IS NOT NULL;
"""

# Each entry moves the schema from version i to i + 1; append, never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    _MIGRATION_1,
    _MIGRATION_2,
    _MIGRATION_3,
    _MIGRATION_4,
    _MIGRATION_5,
    _MIGRATION_6,
    _MIGRATION_7,
)
SCHEMA_VERSION = len(MIGRATIONS)
