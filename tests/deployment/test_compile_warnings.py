"""solc's warnings reach the log, except OpenZeppelin's transient-storage warning, which the
ledger's reentrancy guard raises by design (set-up and every first compile printed it)."""

from __future__ import annotations

import logging

import pytest

from loanservicing.deployment import compile as compile_module


def test_the_transient_storage_warning_of_openzeppelin_is_not_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transient = {
        "severity": "warning",
        "errorCode": "2394",
        "message": "Transient storage as defined by EIP-1153 can break the composability...",
        "formattedMessage": "Warning: Transient storage ...",
        "sourceLocation": {"file": "@openzeppelin/contracts/utils/TransientSlot.sol"},
    }
    shadowing = {
        "severity": "warning",
        "errorCode": "2519",
        "message": "This declaration shadows an existing declaration.",
        "formattedMessage": "Warning: This declaration shadows an existing declaration.",
        "sourceLocation": {"file": "contracts/LoanLedger.sol"},
    }
    with caplog.at_level(logging.WARNING, logger=compile_module.__name__):
        compile_module._log_diagnostics([transient, shadowing])
    assert [r.getMessage() for r in caplog.records] == [
        "solc: Warning: This declaration shadows an existing declaration."
    ]
