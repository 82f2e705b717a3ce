// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {CreditRecord, ICreditRegistry} from "./interfaces/ICreditRegistry.sol";

/// @title CreditRegistry
/// @notice One credit record per borrower address, written by authorised ledgers in the same
///         transaction as the servicing event it reports, readable by anyone. Several ledgers
///         (several lenders) may report into one registry. No personal data: only addresses.
/// @dev Every write saturates its counters: a report must never revert the repayment that
///      carries it.
contract CreditRegistry is ICreditRegistry, AccessControl {
    /// @notice Role of the ledgers allowed to write records.
    bytes32 public constant REPORTER_ROLE = keccak256("REPORTER_ROLE");

    mapping(address borrower => CreditRecord) private _records;

    /// @param admin account that may grant and revoke `REPORTER_ROLE`
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc ICreditRegistry
    function reportLoanOpened(address borrower) external onlyRole(REPORTER_ROLE) {
        CreditRecord storage record = _records[borrower];
        record.loansOpened = _add16(record.loansOpened, 1);
        emit LoanOpenedReported(borrower, msg.sender);
    }

    /// @inheritdoc ICreditRegistry
    function reportRepayment(
        address borrower,
        uint256 paidOnTime,
        uint256 paidLate,
        uint256 daysPastDue,
        uint256 amount,
        bool closed
    ) external onlyRole(REPORTER_ROLE) {
        // Runs in every repayment: touch only the fields that change (one slot, one write).
        CreditRecord storage record = _records[borrower];
        if (paidOnTime != 0) record.paidOnTime = _add24(record.paidOnTime, paidOnTime);
        if (paidLate != 0) record.paidLate = _add24(record.paidLate, paidLate);
        uint16 dpd = daysPastDue > type(uint16).max ? type(uint16).max : uint16(daysPastDue);
        if (record.currentDaysPastDue != dpd) record.currentDaysPastDue = dpd;
        if (dpd > record.maxDaysPastDue) record.maxDaysPastDue = dpd;
        uint256 total = uint256(record.totalRepaid) + amount;
        record.totalRepaid = total > type(uint96).max ? type(uint96).max : uint96(total);
        if (closed) record.loansClosed = _add16(record.loansClosed, 1);
        emit RepaymentReported(borrower, msg.sender, paidOnTime, paidLate, daysPastDue, amount);
        if (closed) emit LoanClosedReported(borrower, msg.sender);
    }

    /// @inheritdoc ICreditRegistry
    function reportDelinquency(address borrower, uint256 missed, uint256 daysPastDue)
        external
        onlyRole(REPORTER_ROLE)
    {
        CreditRecord memory record = _records[borrower];
        record.missed = _add24(record.missed, missed);
        _setDaysPastDue(record, daysPastDue);
        _records[borrower] = record;
        emit DelinquencyReported(borrower, msg.sender, missed, daysPastDue);
    }

    /// @inheritdoc ICreditRegistry
    function reportDefault(address borrower, uint256 daysPastDue) external onlyRole(REPORTER_ROLE) {
        CreditRecord memory record = _records[borrower];
        record.defaults = _add16(record.defaults, 1);
        _setDaysPastDue(record, daysPastDue);
        _records[borrower] = record;
        emit DefaultReported(borrower, msg.sender, daysPastDue);
    }

    /// @inheritdoc ICreditRegistry
    function creditRecord(address borrower) external view returns (CreditRecord memory) {
        return _records[borrower];
    }

    function _setDaysPastDue(CreditRecord memory record, uint256 daysPastDue) private pure {
        uint16 dpd = daysPastDue > type(uint16).max ? type(uint16).max : uint16(daysPastDue);
        record.currentDaysPastDue = dpd;
        if (dpd > record.maxDaysPastDue) record.maxDaysPastDue = dpd;
    }

    function _add24(uint24 a, uint256 b) private pure returns (uint24) {
        uint256 sum = uint256(a) + b;
        return sum > type(uint24).max ? type(uint24).max : uint24(sum);
    }

    function _add16(uint16 a, uint256 b) private pure returns (uint16) {
        uint256 sum = uint256(a) + b;
        return sum > type(uint16).max ? type(uint16).max : uint16(sum);
    }
}
