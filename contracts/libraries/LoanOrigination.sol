// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ICreditRegistry} from "../interfaces/ICreditRegistry.sol";
import {DayCount, ILoanLedger, OriginationTerms} from "../interfaces/ILoanLedger.sol";
import {IOriginationPolicy} from "../interfaces/IOriginationPolicy.sol";
import {FLAG_CALENDAR, FLAG_LIVE, Loan, TokenRef} from "../LoanLedgerStorage.sol";
import {LoanCalendarTerms} from "./LoanCalendarTerms.sol";
import {LoanLimits} from "./LoanLimits.sol";
import {LoanReports} from "./LoanReports.sol";

/// @title LoanOrigination
/// @notice Creating a loan: the terms' bounds, the borrower's EIP-712 signature over them, the
///         admin's token allowlist, the origination policy, the stored loan, and the principal
///         paid from the lender to the borrower (a token that delivers less is refused).
/// @dev Internal library, inlined into the ledger's `originate` (a linked library would cost
///      every origination a cold DELEGATECALL): it writes the ledger's storage through the
///      pointers it is given, `msg.sender` is the lender and `address(this)` the ledger (the
///      EIP-712 verifying contract). The ledger's entry point checks the originator role and
///      the pause, and holds the reentrancy lock.
library LoanOrigination {
    using SafeERC20 for IERC20;

    /// @dev EIP-712 type of what a borrower signs: the lender, every term (in the order of
    ///      {OriginationTerms}; `kind` and `dayCount` as uint8), the borrower's nonce and a
    ///      deadline.
    bytes32 internal constant ORIGINATION_TYPEHASH = keccak256(
        "Origination(address lender,address borrower,address token,uint128 principal,"
        "uint16 aprBps,uint16 installments,uint32 periodSeconds,uint40 firstDueDate,uint8 kind,"
        "uint32 gracePeriodSeconds,uint16 lateFeeBps,uint16 penaltyAprBps,uint16 defaultAfterDays,"
        "uint8 periodMonths,uint8 dayCount,int16 utcOffsetMinutes,uint16 interestOnly,"
        "uint8 roundingExp,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant NAME_HASH = keccak256("LoanLedger");
    bytes32 private constant VERSION_HASH = keccak256("1");

    /// @notice Stores loan `loanId` from `terms` signed by the borrower and pays the principal.
    /// @dev Behind {ILoanLedger.originate}. Emits {ILoanLedger.LoanOriginated}.
    /// @param loans the ledger's loans by id
    /// @param tokenIds the ledger's token ids (and allowlist) by address
    /// @param nonces the ledger's borrower nonces
    /// @param registry the credit registry the ledger reports to
    /// @param policy the origination policy (zero address: none)
    /// @param loanId the new loan's id
    /// @param calldataTerms the terms
    /// @param deadline the signature's deadline
    /// @param signature the borrower's signature
    function originate(
        mapping(uint256 loanId => Loan) storage loans,
        mapping(address token => TokenRef) storage tokenIds,
        mapping(address borrower => uint256 nonce) storage nonces,
        ICreditRegistry registry,
        IOriginationPolicy policy,
        uint256 loanId,
        OriginationTerms calldata calldataTerms,
        uint256 deadline,
        bytes calldata signature
    ) internal {
        // Read from calldata once: every field below is read from memory.
        OriginationTerms memory terms = calldataTerms;
        _validate(terms);
        TokenRef memory ref = tokenIds[terms.token];
        if (!ref.allowed) revert ILoanLedger.TokenNotAllowed(terms.token);
        if (block.timestamp > deadline) revert ILoanLedger.SignatureExpired(deadline, block.timestamp);
        address borrower = terms.borrower;
        bytes32 d = digest(terms, msg.sender, nonces[borrower]++, deadline);
        if (!_signedBy(borrower, d, signature)) revert ILoanLedger.InvalidBorrowerSignature(borrower, d);
        if (address(policy) != address(0)) policy.checkOrigination(msg.sender, borrower);
        uint96 principal = _store(loans[loanId], terms, ref.id);
        emit ILoanLedger.LoanOriginated(loanId, borrower, msg.sender, terms);
        LoanReports.send(
            registry, loanId, abi.encodeCall(ICreditRegistry.reportLoanOpened, (borrower, loanId))
        );
        IERC20 token = IERC20(terms.token);
        uint256 before = token.balanceOf(borrower);
        token.safeTransferFrom(msg.sender, borrower, principal);
        uint256 received = token.balanceOf(borrower) - before;
        if (received != principal) {
            revert ILoanLedger.FeeOnTransferToken(terms.token, principal, received);
        }
    }

    /// @dev Writes the new loan `s` from `terms` (lent by the caller), each slot's fields
    ///      together (one SSTORE a slot); returns its principal.
    function _store(Loan storage s, OriginationTerms memory terms, uint16 tokenId)
        private
        returns (uint96 principal)
    {
        (uint40 segmentStart, uint8 flags) = _calendar(s, terms);
        s.borrower = terms.borrower;
        s.tokenId = tokenId;
        s.installments = terms.installments;
        s.aprBps = terms.aprBps;
        s.penaltyAprBps = terms.penaltyAprBps;
        s.lateFeeBps = terms.lateFeeBps;
        s.defaultAfterDays = terms.defaultAfterDays;
        s.lender = msg.sender;
        principal = SafeCast.toUint96(terms.principal);
        s.principal = principal;
        s.basePrincipal = principal;
        s.segmentStart = segmentStart;
        // Interest to the day runs from origination (see LoanAccounting.owed).
        s.lastAccrual = SafeCast.toUint40(block.timestamp);
        s.periodSeconds = terms.periodSeconds;
        s.gracePeriodSeconds = terms.gracePeriodSeconds;
        s.kind = terms.kind;
        s.flags = flags;
    }

    /// @notice The EIP-712 digest of `terms` offered by `lender` with `nonce` and `deadline`,
    ///         in the domain of the calling ledger.
    function digest(OriginationTerms memory terms, address lender, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        // Every field of OriginationTerms is a value type, so abi.encode lays the struct out
        // word by word, as EIP-712's encodeData does.
        bytes32 structHash =
            keccak256(abi.encode(ORIGINATION_TYPEHASH, lender, terms, nonce, deadline));
        bytes32 domain = keccak256(
            abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this))
        );
        return MessageHashUtils.toTypedDataHash(domain, structHash);
    }

    /// @notice The digest for `lender` with the borrower's current nonce (see {digest}).
    function originationDigest(
        mapping(address borrower => uint256 nonce) storage nonces,
        OriginationTerms calldata terms,
        address lender,
        uint256 deadline
    ) internal view returns (bytes32) {
        return digest(terms, lender, nonces[terms.borrower], deadline);
    }

    /// @dev An ECDSA signature of `signer` (an externally owned account), else the ERC-1271
    ///      answer of `signer` (a contract wallet). ECDSA first: an account's code is read only
    ///      when its ECDSA signature does not match.
    function _signedBy(address signer, bytes32 hash, bytes calldata signature)
        private
        view
        returns (bool)
    {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return SignatureChecker.isValidERC1271SignatureNow(signer, hash, signature);
    }

    /// @dev The calendar: its segment start and the loan's flags. A plain one (a period of
    ///      days under actual/365 in UTC, no rounding, no interest-only installments, the first
    ///      due date one period from today: the segment starts at the end of today) here; any
    ///      other in the linked library LoanCalendarTerms, which checks it and writes slot 6.
    function _calendar(Loan storage s, OriginationTerms memory t)
        private
        returns (uint40 segmentStart, uint8 flags)
    {
        uint256 today = block.timestamp / 1 days;
        if (
            t.periodMonths == 0 && t.dayCount == DayCount.Actual365 && t.utcOffsetMinutes == 0
                && t.interestOnly == 0 && t.roundingExp == 0
                && t.firstDueDate / 1 days == today + t.periodSeconds / 1 days
        ) return (SafeCast.toUint40((today + 1) * 1 days - 1), FLAG_LIVE);
        return (LoanCalendarTerms.store(s, t), FLAG_LIVE | FLAG_CALENDAR);
    }

    function _validate(OriginationTerms memory t) private view {
        if (t.borrower == address(0) || t.token == address(0)) revert ILoanLedger.ZeroAddress();
        if (t.borrower == msg.sender) revert ILoanLedger.BorrowerIsLender(t.borrower);
        LoanLimits.validateSchedule(
            t.aprBps, t.installments, t.periodSeconds, t.periodMonths, t.dayCount
        );
        uint256 days_ = t.periodMonths != 0 ? 30 * uint256(t.periodMonths) : t.periodSeconds / 1 days;
        uint256 maxPrincipal = LoanLimits.maxPrincipal(t.aprBps, t.installments, days_, t.dayCount);
        if (t.principal == 0 || t.principal > maxPrincipal) {
            revert ILoanLedger.InvalidPrincipal(t.principal, maxPrincipal);
        }
        if (t.penaltyAprBps > LoanLimits.MAX_RATE_BPS) {
            revert ILoanLedger.InvalidRate(t.penaltyAprBps, LoanLimits.MAX_RATE_BPS);
        }
        if (t.lateFeeBps > LoanLimits.MAX_LATE_FEE_BPS) {
            revert ILoanLedger.InvalidLateFee(t.lateFeeBps, LoanLimits.MAX_LATE_FEE_BPS);
        }
        if (t.gracePeriodSeconds > LoanLimits.MAX_GRACE) {
            revert ILoanLedger.InvalidGracePeriod(t.gracePeriodSeconds, LoanLimits.MAX_GRACE);
        }
        if (t.defaultAfterDays == 0 || t.defaultAfterDays > LoanLimits.MAX_DEFAULT_DAYS) {
            revert ILoanLedger.InvalidDefaultThreshold(t.defaultAfterDays);
        }
    }
}
