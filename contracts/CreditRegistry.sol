// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {CreditRecord, ICreditRegistry, ScoreFactors} from "./interfaces/ICreditRegistry.sol";
import {CreditScore} from "./libraries/CreditScore.sol";

/// @title CreditRegistry
/// @notice Credit records per borrower address, written by authorised ledgers (reporters) in
///         the same transaction as the servicing event they report, readable by anyone. Each
///         reporter's figures are kept apart; a borrower's record is their sum. No personal
///         data: only addresses.
/// @dev Storage: per borrower and reporter one slot of figures; per borrower the reporters in
///      order of first report, and the loans currently reported past due (a set with O(1)
///      insert and remove). Writes never loop; the views sum over a borrower's reporters and
///      take the worst of the borrower's delinquent loans (usually none). Every write
///      saturates its counters.
contract CreditRegistry is ICreditRegistry, AccessControl {
    /// @notice Role of the ledgers allowed to write records.
    bytes32 public constant REPORTER_ROLE = keccak256("REPORTER_ROLE");

    /// @dev One loan reported past due: its reporter and id.
    struct DelinquentLoan {
        address reporter;
        uint96 loanId;
    }

    /// @dev A loan's borrower, last reported days past due and place (1-based) in the
    ///      borrower's set of delinquent loans (0: not in it). One slot.
    struct LoanStanding {
        address borrower;
        uint16 daysPastDue;
        uint32 position;
    }

    /// @dev One reporter's figures about one borrower as stored: a CreditRecord whose
    ///      `currentDaysPastDue` (computed by the views from the delinquent set) is not kept;
    ///      `listed` instead says the reporter is in the borrower's list of reporters. One slot.
    struct Figures {
        uint24 paidOnTime;
        uint24 paidLate;
        uint24 missed;
        uint16 listed;
        uint16 maxDaysPastDue;
        uint16 defaults;
        uint16 loansOpened;
        uint16 loansClosed;
        uint96 totalRepaid;
        uint8 forbearances;
    }

    mapping(address borrower => mapping(address reporter => Figures)) private _records;
    mapping(address borrower => address[]) private _reporters;
    mapping(address reporter => mapping(uint256 loanId => LoanStanding)) private _standing;
    mapping(address borrower => DelinquentLoan[]) private _delinquent;

    /// @param admin account that may grant and revoke `REPORTER_ROLE`
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc ICreditRegistry
    function reportLoanOpened(address borrower, uint256 loanId) external onlyRole(REPORTER_ROLE) {
        Figures storage record = _figures(borrower);
        record.loansOpened = _add16(record.loansOpened, 1);
        emit LoanOpenedReported(borrower, msg.sender, loanId);
    }

    /// @inheritdoc ICreditRegistry
    function reportRepayment(
        address borrower,
        uint256 loanId,
        uint256 paidOnTime,
        uint256 paidLate,
        uint256 amount,
        bool closed
    ) external onlyRole(REPORTER_ROLE) {
        // Runs in every repayment: touch only the fields that change (one slot, one write).
        Figures storage record = _figures(borrower);
        if (paidOnTime != 0) record.paidOnTime = _add24(record.paidOnTime, paidOnTime);
        if (paidLate != 0) record.paidLate = _add24(record.paidLate, paidLate);
        uint256 total = uint256(record.totalRepaid) + amount;
        record.totalRepaid = total > type(uint96).max ? type(uint96).max : uint96(total);
        if (closed) record.loansClosed = _add16(record.loansClosed, 1);
        emit RepaymentReported(borrower, msg.sender, loanId, paidOnTime, paidLate, amount);
        if (closed) {
            _setStanding(borrower, loanId, 0);
            emit LoanClosedReported(borrower, msg.sender, loanId);
        }
    }

    /// @inheritdoc ICreditRegistry
    function reportDelinquency(address borrower, uint256 loanId, uint256 missed, uint256 daysPastDue)
        external
        onlyRole(REPORTER_ROLE)
    {
        Figures storage record = _figures(borrower);
        if (missed != 0) record.missed = _add24(record.missed, missed);
        _setMax(record, daysPastDue);
        _setStanding(borrower, loanId, daysPastDue);
        emit DelinquencyReported(borrower, msg.sender, loanId, missed, daysPastDue);
    }

    /// @inheritdoc ICreditRegistry
    function reportDefault(address borrower, uint256 loanId, uint256 daysPastDue)
        external
        onlyRole(REPORTER_ROLE)
    {
        Figures storage record = _figures(borrower);
        record.defaults = _add16(record.defaults, 1);
        _setMax(record, daysPastDue);
        _setStanding(borrower, loanId, daysPastDue);
        emit DefaultReported(borrower, msg.sender, loanId, daysPastDue);
    }

    /// @inheritdoc ICreditRegistry
    function reportForbearance(address borrower, uint256 loanId, uint256 fromDay, uint256 toDay)
        external
        onlyRole(REPORTER_ROLE)
    {
        Figures storage record = _figures(borrower);
        if (record.forbearances != type(uint8).max) ++record.forbearances;
        emit ForbearanceReported(borrower, msg.sender, loanId, fromDay, toDay);
    }

    /// @inheritdoc ICreditRegistry
    function creditRecord(address borrower) external view returns (CreditRecord memory) {
        return _total(borrower);
    }

    /// @inheritdoc ICreditRegistry
    function reporterRecord(address borrower, address reporter)
        external
        view
        returns (CreditRecord memory)
    {
        return _reporterRecord(borrower, reporter);
    }

    /// @inheritdoc ICreditRegistry
    function creditScore(address borrower)
        external
        view
        returns (uint256 score, ScoreFactors memory factors)
    {
        return CreditScore.scoreOf(_total(borrower));
    }

    /// @inheritdoc ICreditRegistry
    function reporterScore(address borrower, address reporter)
        external
        view
        returns (uint256 score, ScoreFactors memory factors)
    {
        return CreditScore.scoreOf(_reporterRecord(borrower, reporter));
    }

    /// @dev The borrower's figures summed over its reporters.
    function _total(address borrower) private view returns (CreditRecord memory total) {
        address[] storage reporters = _reporters[borrower];
        uint256 n = reporters.length;
        for (uint256 i; i < n; ++i) {
            Figures memory r = _records[borrower][reporters[i]];
            total.paidOnTime = _add24(total.paidOnTime, r.paidOnTime);
            total.paidLate = _add24(total.paidLate, r.paidLate);
            total.missed = _add24(total.missed, r.missed);
            if (r.maxDaysPastDue > total.maxDaysPastDue) total.maxDaysPastDue = r.maxDaysPastDue;
            total.defaults = _add16(total.defaults, r.defaults);
            total.loansOpened = _add16(total.loansOpened, r.loansOpened);
            total.loansClosed = _add16(total.loansClosed, r.loansClosed);
            uint256 repaid = uint256(total.totalRepaid) + r.totalRepaid;
            total.totalRepaid = repaid > type(uint96).max ? type(uint96).max : uint96(repaid);
            uint256 forbearances = uint256(total.forbearances) + r.forbearances;
            total.forbearances = forbearances > type(uint8).max ? type(uint8).max : uint8(forbearances);
        }
        total.currentDaysPastDue = _worst(borrower, address(0));
    }

    function _reporterRecord(address borrower, address reporter)
        private
        view
        returns (CreditRecord memory record)
    {
        Figures memory f = _records[borrower][reporter];
        record = CreditRecord(
            f.paidOnTime,
            f.paidLate,
            f.missed,
            _worst(borrower, reporter),
            f.maxDaysPastDue,
            f.defaults,
            f.loansOpened,
            f.loansClosed,
            f.totalRepaid,
            f.forbearances
        );
    }

    /// @inheritdoc ICreditRegistry
    function reportersOf(address borrower) external view returns (address[] memory) {
        return _reporters[borrower];
    }

    /// @inheritdoc ICreditRegistry
    function loanDaysPastDue(address reporter, uint256 loanId) external view returns (uint256) {
        return _standing[reporter][loanId].daysPastDue;
    }

    /// @dev Records loan `loanId`'s (of the caller) days past due, adding it to or removing it
    ///      from the borrower's set of delinquent loans (swap with the last and pop).
    function _setStanding(address borrower, uint256 loanId, uint256 daysPastDue) private {
        LoanStanding storage standing = _standing[msg.sender][loanId];
        uint32 position = standing.position;
        if (position != 0 && standing.borrower != borrower) {
            revert LoanOfAnotherBorrower(msg.sender, loanId, standing.borrower);
        }
        uint16 dpd = _to16(daysPastDue);
        if (dpd != 0) {
            if (position == 0) {
                DelinquentLoan[] storage set = _delinquent[borrower];
                set.push(DelinquentLoan(msg.sender, _to96(loanId)));
                standing.borrower = borrower;
                standing.position = SafeCast.toUint32(set.length);
            }
            standing.daysPastDue = dpd;
        } else if (position != 0) {
            DelinquentLoan[] storage set = _delinquent[borrower];
            DelinquentLoan memory last = set[set.length - 1];
            set[position - 1] = last;
            _standing[last.reporter][last.loanId].position = position;
            set.pop();
            delete _standing[msg.sender][loanId];
        }
    }

    /// @dev The worst days past due among the borrower's delinquent loans (of `reporter`
    ///      only, unless it is the zero address).
    function _worst(address borrower, address reporter) private view returns (uint16 worst) {
        DelinquentLoan[] storage set = _delinquent[borrower];
        uint256 n = set.length;
        for (uint256 i; i < n; ++i) {
            DelinquentLoan memory l = set[i];
            if (reporter != address(0) && l.reporter != reporter) continue;
            uint16 dpd = _standing[l.reporter][l.loanId].daysPastDue;
            if (dpd > worst) worst = dpd;
        }
    }

    /// @dev The caller's figures about `borrower`; the caller's first report about the borrower,
    ///      whatever it is, lists it among the borrower's reporters.
    function _figures(address borrower) private returns (Figures storage record) {
        record = _records[borrower][msg.sender];
        if (record.listed == 0) {
            record.listed = 1;
            _reporters[borrower].push(msg.sender);
        }
    }

    function _setMax(Figures storage record, uint256 daysPastDue) private {
        uint16 dpd = _to16(daysPastDue);
        if (dpd > record.maxDaysPastDue) record.maxDaysPastDue = dpd;
    }

    function _to16(uint256 x) private pure returns (uint16) {
        return x > type(uint16).max ? type(uint16).max : uint16(x);
    }

    function _to96(uint256 x) private pure returns (uint96) {
        return x > type(uint96).max ? type(uint96).max : uint96(x);
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
