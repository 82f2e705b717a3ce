"""Origination: terms in the ledger's shape, the offer a borrower signs, the checks of signed
terms (:meth:`OriginationMixin.verify_signed_terms`), the simulation that lets the ledger refuse
bad terms before any approval, the origination itself and the admin's token allowlist."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from eth_typing import ChecksumAddress, HexStr
from web3 import Web3
from web3.logs import DISCARD
from web3.types import StateOverride

from loanservicing.amounts import iso_date
from loanservicing.chain.abi import DEFAULT_ADMIN_ROLE, ORIGINATOR_ROLE
from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.transactions import call
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.calendar import DayCount, Frequency
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.servicing.binding import LedgerBinding
from loanservicing.servicing.borrower_signature import (
    DEFAULT_VALIDITY,
    SignedTerms,
    origination_typed_data,
    sign_terms,
)
from loanservicing.servicing.errors import InvalidTerms, SignatureFileError
from loanservicing.servicing.inputs import (
    Amount,
    Rate,
    amount_units,
    frequency_of,
    rate_bps,
    seconds_of,
)
from loanservicing.servicing.records import LoanTerms, Origination, TokenPermission

__all__ = ["OriginationMixin"]

# How an origination that passed the ledger's checks of its terms fails in a simulation from
# a lender that has not approved (or does not hold) the principal yet: the ledger validates
# the terms before it pulls the principal, last.
TERMS_PASSED = frozenset({"ERC20InsufficientAllowance", "ERC20InsufficientBalance"})

# An ERC-1271 wallet that accepts any signature: every call returns isValidSignature's magic
# value 0x1626ba7e (PUSH4 magic, PUSH1 224, SHL, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN).
_ACCEPTING_WALLET = "0x631626ba7e60e01b60005260206000f3"


def not_a_dev_borrower(borrower: ChecksumAddress) -> SignatureFileError:
    """The refusal to originate for a borrower whose key this node does not hold."""
    return SignatureFileError(
        f"The borrower {borrower} is not a dev account of this node, so only it can sign the "
        "terms: it runs `loan sign-terms` and the lender originates with "
        "`loan originate --signed-terms FILE`."
    )


class OriginationMixin(LedgerBinding):
    """Originating loans on terms their borrowers signed, and allowing tokens."""

    def loan_terms(
        self,
        borrower: str,
        principal: Amount,
        apr: Rate,
        installments: int,
        every: timedelta | Frequency,
        *,
        kind: ScheduleKind = ScheduleKind.ANNUITY,
        grace: timedelta = timedelta(days=5),
        late_fee_bps: int = 500,
        penalty_apr: Rate = 6,
        default_after: timedelta = timedelta(days=90),
        first_due: date | None = None,
        day_count: DayCount | None = None,
        utc_offset: timedelta = timedelta(0),
        interest_only: int = 0,
        rounding: Amount | None = None,
    ) -> LoanTerms:
        """Terms as a person writes them: ``principal`` in tokens (``Decimal``) or units
        (``int``), rates in percent, the period a ``timedelta`` of whole days or a calendar
        :class:`~loanservicing.ledger.calendar.Frequency`, the first due date a ``date`` in
        the loan's UTC offset (default: one period after origination), installments rounded
        to ``rounding`` (default: cents, 0.01 of a token). 30/360 is the default day count of
        calendar months, actual/365 of days. A wrong type is one sentence (InvalidInput).
        """
        decimals = self.token_decimals
        frequency = frequency_of(every)
        if not Web3.is_checksum_address(borrower):
            raise InvalidTerms(f"The borrower {borrower!r} is not a checksummed address.")
        offset = seconds_of(abs(utc_offset), "UTC offset") * (
            -1 if utc_offset < timedelta(0) else 1
        )
        first_due_ts = None
        if first_due is not None:
            if not isinstance(first_due, date):
                raise InvalidTerms(f"The first due date {first_due!r} is not a datetime.date.")
            first_due_ts = cal.day_end(cal.day_of_date(first_due), offset)
        step = amount_units(rounding if rounding is not None else Decimal("0.01"), decimals)
        rounding_exp = len(str(step)) - 1
        if step != 10**rounding_exp:
            raise InvalidTerms(f"The rounding {rounding} is not a power of ten of the token.")
        return LoanTerms(
            borrower=Web3.to_checksum_address(borrower),
            principal=amount_units(principal, decimals, "principal"),
            apr_bps=rate_bps(apr),
            installments=installments,
            period_seconds=frequency.period_seconds,
            kind=kind,
            grace_seconds=seconds_of(grace, "grace period"),
            late_fee_bps=late_fee_bps,
            penalty_apr_bps=rate_bps(penalty_apr, "penalty rate"),
            default_after_days=seconds_of(default_after, "default threshold") // DAY,
            first_due_timestamp=first_due_ts,
            months=frequency.months,
            day_count=day_count
            or (DayCount.THIRTY_360 if frequency.months else DayCount.ACTUAL_365),
            utc_offset_minutes=offset // 60,
            interest_only=interest_only,
            rounding_exp=rounding_exp,
        )

    def first_due_timestamp(self, terms: LoanTerms, now: int) -> int:
        """The first due date to originate ``terms`` with: theirs, or one period after ``now``.

        Only checks what is not the ledger's to check (the borrower is a checksummed address);
        the ledger checks the terms themselves (:meth:`check_terms`).
        """
        if not Web3.is_checksum_address(terms.borrower):
            raise InvalidTerms(f"The borrower {terms.borrower} is not a usable address.")
        first_due = terms.first_due_timestamp
        return terms.default_first_due(now) if first_due is None else first_due

    def terms_tuple(self, terms: LoanTerms, first_due: int) -> tuple[Any, ...]:
        """The ledger's ``OriginationTerms`` for ``terms`` in the deployment's token (terms
        that make no sense refused first: :meth:`LoanTerms.require_sensible`)."""
        terms.require_sensible()
        return (
            terms.borrower,
            self.token.address,
            terms.principal,
            terms.apr_bps,
            terms.installments,
            terms.period_seconds,
            first_due,
            int(terms.kind),
            terms.grace_seconds,
            terms.late_fee_bps,
            terms.penalty_apr_bps,
            terms.default_after_days,
            terms.months,
            int(terms.day_count),
            terms.utc_offset_minutes,
            terms.interest_only,
            terms.rounding_exp,
        )

    def offer(
        self, terms: LoanTerms, lender: ChecksumAddress, deadline: int, now: int | None = None
    ) -> dict[str, Any]:
        """The EIP-712 message the borrower signs to accept ``terms`` from ``lender`` until
        ``deadline``, with the borrower's next nonce (first due date: theirs, or one period
        after ``now``, default the chain's time)."""
        now = self.now() if now is None else now
        call_terms = self.terms_tuple(terms, self.first_due_timestamp(terms, now))
        return origination_typed_data(
            self.ledger.address,
            int(self.w3.eth.chain_id),
            call_terms,
            lender,
            self.nonce_of(terms.borrower),
            deadline,
        )

    def sign_offer(
        self, terms: LoanTerms, lender: ChecksumAddress, valid_for: int = DEFAULT_VALIDITY
    ) -> SignedTerms:
        """Sign ``terms`` from ``lender`` as their borrower (this account), usable for
        ``valid_for`` seconds; the origination is simulated from the lender first, so terms
        the ledger would refuse are never signed (the lender's missing allowance aside)."""
        sender = self._require_sender()
        if terms.borrower != sender.address:
            raise InvalidTerms(
                f"The signing account {sender.address} is not the borrower {terms.borrower}: "
                "the borrower signs its own terms."
            )
        if valid_for <= 0:
            raise InvalidTerms("The signature must stay valid for some time, such as 1d.")
        now = self.now()
        typed = self.offer(terms, lender, now + valid_for, now)
        signed = SignedTerms(typed, sign_terms(sender.signer.local_account(), typed))
        self.check_terms(signed.terms, signed.deadline, signed.signature, lender)
        return signed

    def check_terms(
        self,
        terms: tuple[Any, ...],
        deadline: int,
        signature: bytes,
        lender: ChecksumAddress | None = None,
    ) -> None:
        """Simulate ``originate(terms, deadline, signature)`` from ``lender`` (default: this
        account) and raise the ledger's refusal.

        The ledger checks the terms, the token, the borrower's signature (and its origination
        policy) before it pulls the principal, so a simulation that passes, or fails only for
        want of the token's allowance (or balance), means the ledger accepts them; any other
        revert is raised as the decoded custom error (TransactionReverted, with its name and
        arguments, explained where a person can act on it).
        """
        try:
            call(
                self.ledger.functions.originate(terms, deadline, signature),
                self.decoder,
                "Originating the loan",
                transaction={"from": lender or self.account},
            )
        except TransactionReverted as exc:
            if exc.error_name in TERMS_PASSED:
                return
            raise self._explained(exc, "Originating the loan") from None

    def simulate_terms(
        self, call_terms: tuple[Any, ...], borrower: ChecksumAddress, now: int
    ) -> None:
        """Simulate originating ``call_terms`` with the borrower's code overridden, for this
        call only, by a wallet that accepts any signature: the ledger runs every check but the
        signature's (terms, token, lender's role, the borrower's policy); its refusal is
        raised, explained. For terms whose signature is not at hand yet, or not valid until
        the borrower's earlier originations are mined."""
        override: StateOverride = {borrower: {"code": HexStr(_ACCEPTING_WALLET)}}
        action = "Originating the loan"
        try:
            call(
                self.ledger.functions.originate(call_terms, now + DEFAULT_VALIDITY, b""),
                self.decoder,
                action,
                transaction={"from": self.account},
                state_override=override,
            )
        except TransactionReverted as exc:
            if exc.error_name in TERMS_PASSED:
                return
            raise self._explained(exc, action) from None

    def originate(
        self, terms: LoanTerms, approve: bool = True, valid_for: int = DEFAULT_VALIDITY
    ) -> Origination:
        """Originate a loan with this account as lender, signed by its borrower, a dev account
        of the node (any other borrower signs the terms itself: :meth:`sign_offer`, then
        :meth:`originate_signed`); approves the principal if needed.

        Nothing is sent, not even the approval, unless a simulation shows the ledger accepts
        the terms and the signature.
        """
        self._require_role(ORIGINATOR_ROLE, "originate loans")
        now = self.now()
        call_terms = self.terms_tuple(terms, self.first_due_timestamp(terms, now))
        signed = self.dev_borrower_signature(terms.borrower, call_terms, now + valid_for)
        if signed is None:
            raise not_a_dev_borrower(terms.borrower)
        return self._originate(signed, approve)

    def dev_borrower_signature(
        self, borrower: ChecksumAddress, call_terms: tuple[Any, ...], deadline: int
    ) -> SignedTerms | None:
        """``call_terms`` from this account signed by ``borrower`` with its next nonce, when
        it is a dev account of the node (its key is known); None for any other borrower."""
        signer = self.dev_account(borrower)
        if signer is None:
            return None
        typed = origination_typed_data(
            self.ledger.address,
            int(self.w3.eth.chain_id),
            call_terms,
            self.account,
            self.nonce_of(borrower),
            deadline,
        )
        return SignedTerms(typed, sign_terms(signer.local_account(), typed))

    def verify_signed_terms(self, signed: SignedTerms, nonce: int | None = None) -> None:
        """Refuse, with one sentence, signed terms this account cannot originate: another
        chain or ledger, another lender, a used nonce, an expired deadline, or a
        signature that is not the borrower's over exactly these terms. ``nonce``: the
        borrower's nonce the terms must carry (default: its next one on chain)."""
        lender = self.account
        chain_id = int(self.w3.eth.chain_id)
        if signed.chain_id != chain_id or signed.ledger != self.ledger.address:
            raise SignatureFileError(
                f"The terms were signed for the ledger {signed.ledger} on chain "
                f"{signed.chain_id}, not this deployment's ledger {self.ledger.address} on "
                f"chain {chain_id}."
            )
        if signed.lender != lender:
            raise SignatureFileError(
                f"The terms were signed for the lender {signed.lender}, not for the signing "
                f"account {lender}."
            )
        now = self.now()
        if signed.deadline <= now:
            raise SignatureFileError(
                f"The borrower's signature expired at {iso_date(signed.deadline)} (the chain's "
                f"time is {iso_date(now)}); ask the borrower to sign the terms again."
            )
        if nonce is None:  # else: after the borrower's originations ahead of this one
            nonce = self.nonce_of(signed.borrower)
        if signed.nonce != nonce:
            raise SignatureFileError(
                f"The terms carry the borrower's nonce {signed.nonce}, but its next nonce is "
                f"{nonce}: they were used or replaced already; ask the borrower to sign again."
            )
        expected = bytes(
            call(
                self.ledger.functions.originationDigest(signed.terms, lender, signed.deadline),
                self.decoder,
            )
        )
        if signed.digest() != expected:
            raise SignatureFileError(
                "The signed terms do not encode as the ledger's Origination message (their "
                "digest differs from the ledger's); ask the borrower to sign them again."
            )
        if not self.w3.eth.get_code(signed.borrower) and signed.signer() != signed.borrower:
            raise SignatureFileError(
                f"The signature over the terms is not the borrower {signed.borrower}'s (it "
                f"was made by {signed.signer() or 'no account'}); ask the borrower to sign."
            )

    def originate_signed(self, signed: SignedTerms, approve: bool = True) -> Origination:
        """Originate the loan the borrower signed in ``signed`` with this account as lender;
        approves the principal if needed. The terms are checked
        (:meth:`verify_signed_terms`) and the origination simulated before anything is sent;
        the principal is lent in the token the terms name (the ledger must allow it)."""
        self._require_role(ORIGINATOR_ROLE, "originate loans")
        bound = self.with_token(signed.token)
        bound.verify_signed_terms(signed)
        return bound._originate(signed, approve)

    def _originate(self, signed: SignedTerms, approve: bool) -> Origination:
        self.check_terms(signed.terms, signed.deadline, signed.signature)
        self._require_balance(signed.principal, "the loan's principal")
        self.ensure_allowance(signed.principal, approve)
        receipt = self._send(
            self.ledger.functions.originate(signed.terms, signed.deadline, signed.signature),
            "Originating the loan",
        )
        (event,) = self.ledger.events.LoanOriginated().process_receipt(receipt, errors=DISCARD)
        return Origination(
            int(event["args"]["loanId"]),
            receipt["transactionHash"].to_0x_hex(),
            int(receipt["gasUsed"]),
            signed.borrower,
            signed.nonce,
        )

    def allow_token(self, token: ChecksumAddress, allowed: bool = True) -> TokenPermission:
        """Allow (or disallow) new loans in ``token`` (the ledger's admin only)."""
        self._require_role(DEFAULT_ADMIN_ROLE, "allow tokens")
        what = "Allowing" if allowed else "Disallowing"
        receipt = self._send(
            self.ledger.functions.setTokenAllowed(token, allowed), f"{what} token {token}"
        )
        (event,) = self.ledger.events.TokenAllowed().process_receipt(receipt, errors=DISCARD)
        a = event["args"]
        return TokenPermission(
            str(a["token"]),
            int(a["tokenId"]),
            int(a["decimals"]),
            bool(a["allowed"]),
            receipt["transactionHash"].to_0x_hex(),
        )
