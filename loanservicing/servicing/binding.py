"""The servicer's binding to a deployment: its contracts, the signing accounts, the token, the
raw loan view and the checked write path the servicing API is built on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from loanservicing.amounts import InvalidInput, format_money
from loanservicing.chain.abi import ROLE_NAMES, output_fields, role
from loanservicing.chain.accounts import Signer, TransactionSender, dev_signer
from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.node import chain_time, is_dev_chain
from loanservicing.chain.transactions import call
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.compile import ContractArtifact, compile_contracts
from loanservicing.deployment.manifest import Deployment
from loanservicing.errors import LoanServicingError
from loanservicing.ledger.state import LoanStatus
from loanservicing.servicing.errors import (
    InsufficientFunds,
    LoanNotFound,
    LoanNotOpen,
    MissingRole,
    NoSigner,
)
from loanservicing.servicing.inputs import loan_number
from loanservicing.servicing.revert_messages import explained

__all__ = ["LedgerBinding"]


class LedgerBinding:
    """One deployment's contracts and the account acting on them: the token, the raw loan
    view, roles and nonces, and the checked write path (roles, open loans, balances,
    allowances, sends whose reverts are explained).

    :class:`~loanservicing.servicing.servicer.Servicer` and its mixins build on it.
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        artifacts: dict[str, ContractArtifact] | None = None,
        signer: Signer | None = None,
    ) -> None:
        self.w3 = w3
        self.deployment = deployment
        artifacts = artifacts if artifacts is not None else compile_contracts()
        self.artifacts = artifacts
        self.decoder = revert_decoder(artifacts)
        self.ledger: Contract = w3.eth.contract(
            address=deployment.ledger.address, abi=artifacts["LoanLedger"].abi
        )
        self.registry: Contract = w3.eth.contract(
            address=deployment.credit_registry.address, abi=artifacts["CreditRegistry"].abi
        )
        self.token: Contract = w3.eth.contract(
            address=deployment.token.address, abi=artifacts["TestStablecoin"].abi
        )
        self.sender = TransactionSender(w3, signer, self.decoder) if signer else None
        self._senders: dict[ChecksumAddress, TransactionSender] = {}
        if self.sender is not None:
            self._senders[self.sender.address] = self.sender
        self._outputs = {
            name: output_fields(self.ledger.abi, name) for name in ("loan", "amountDue")
        }
        self._record_fields = output_fields(self.registry.abi, "creditRecord")
        self._closers: list[Callable[[], None]] = []
        self._token_decimals: int | None = None
        self._token_symbol: str | None = None
        self._dev_chain: bool | None = None

    # ----------------------------------------------------------------- accounts

    def as_account(self, signer: Signer) -> Self:
        """The same servicer acting as another account (shares nonce counters)."""
        other = type(self).__new__(type(self))
        other.__dict__.update(self.__dict__)
        other._closers = []  # what this servicer started stays its own to close
        sender = self._senders.get(signer.address)
        if sender is None:
            sender = TransactionSender(self.w3, signer, self.decoder)
            self._senders[signer.address] = sender
        other.sender = sender
        return other

    def local_key(self) -> LocalAccount:
        """The signing account's key, for the bulk path (never print or log it)."""
        key: LocalAccount = self._require_sender().signer.local_account()
        return key

    def sender_of(self, address: ChecksumAddress) -> TransactionSender | None:
        """The sender of ours that signs for ``address``, if any."""
        return self._senders.get(address)

    @property
    def account(self) -> ChecksumAddress:
        return self._require_sender().address

    def _require_sender(self) -> TransactionSender:
        if self.sender is None:
            raise NoSigner("This operation sends a transaction, but no account was given.")
        return self.sender

    def dev_account(self, address: ChecksumAddress) -> Signer | None:
        """The dev key of ``address`` when it is one of the node's dev accounts (Anvil's and
        Hardhat's, from the public test mnemonic), else None."""
        if self._dev_chain is None:
            self._dev_chain = is_dev_chain(self.w3)
        if not self._dev_chain:
            return None
        accounts = list(self.w3.eth.accounts)
        if address not in accounts:
            return None
        signer = dev_signer(accounts.index(address))
        return signer if signer.address == address else None

    # ----------------------------------------------------------------- token

    @property
    def token_decimals(self) -> int:
        if self._token_decimals is None:
            self._token_decimals = int(self.token.functions.decimals().call())
        return self._token_decimals

    @property
    def token_symbol(self) -> str:
        if self._token_symbol is None:
            self._token_symbol = str(self.token.functions.symbol().call())
        return self._token_symbol

    def with_token(self, token: ChecksumAddress) -> Self:
        """The same servicer working in ``token`` (an ERC-20 the ledger may lend in) instead of
        the deployment's: terms, balances, approvals and amounts use its decimals and symbol.
        Refused in one sentence when ``token`` is not an ERC-20 contract."""
        if token == self.token.address:
            return self
        other = type(self).__new__(type(self))
        other.__dict__.update(self.__dict__)
        other._closers = []
        other.token = self.w3.eth.contract(address=token, abi=self.token.abi)
        try:
            other._token_decimals = int(other.token.functions.decimals().call())
            other._token_symbol = str(other.token.functions.symbol().call())
        except Exception:  # no code, or no decimals()/symbol(): web3 raises several kinds
            raise InvalidInput(
                f"The address {token} is not an ERC-20 token on this chain "
                "(it answers no decimals() and symbol())."
            ) from None
        return other

    def for_loan(self, loan_id: int) -> Self:
        """The same servicer working in the token loan ``loan_id`` is lent in."""
        return self.with_token(Web3.to_checksum_address(self.loan_view(loan_id)["token"]))

    def balance(self, account: ChecksumAddress) -> int:
        return int(self.token.functions.balanceOf(account).call())

    def allowance(self, owner: ChecksumAddress) -> int:
        return int(self.token.functions.allowance(owner, self.ledger.address).call())

    def show(self, units: int) -> str:
        """Units of the servicer's token for people: ``1,250.50 tUSDC``."""
        return f"{format_money(units, self.token_decimals)} {self.token_symbol}"

    # ----------------------------------------------------------------- reads

    def now(self) -> int:
        return chain_time(self.w3)

    def loan_count(self) -> int:
        return int(self.ledger.functions.loanCount().call())

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` at :meth:`close` (a temporary node's stop, say)."""
        self._closers.append(closer)

    def close(self) -> None:
        """Release what this servicer started (a temporary Anvil); it is unusable after."""
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def loan_view(self, loan_id: int) -> dict[str, Any]:
        """The raw ``loan(id)`` struct as a dict; LoanNotFound for an unknown id."""
        loan_id = loan_number(loan_id)
        if loan_id <= 0:
            raise LoanNotFound(f"Loan ids start at 1; there is no loan {loan_id}.")
        try:
            raw = call(self.ledger.functions.loan(loan_id), self.decoder)
        except TransactionReverted as exc:
            if exc.error_name == "LoanNotFound":
                raise LoanNotFound(
                    f"There is no loan {loan_id}; the ledger holds {self.loan_count()} loans."
                ) from None
            raise
        return dict(zip(self._outputs["loan"], raw, strict=True))

    def has_role(self, role_name: str, account: ChecksumAddress) -> bool:
        return bool(self.ledger.functions.hasRole(role(role_name), account).call())

    def nonce_of(self, borrower: ChecksumAddress) -> int:
        """The nonce the borrower's next origination signature must carry."""
        return int(call(self.ledger.functions.nonces(borrower), self.decoder))

    # ----------------------------------------------------------------- writes

    def _send(self, fn: ContractFunction, action: str, gas: int | None = None) -> TxReceipt:
        sender = self._require_sender()
        try:
            return sender.send(fn, action, gas)
        except TransactionReverted as exc:
            raise self._explained(exc, action) from None

    def _explained(self, exc: TransactionReverted, action: str) -> LoanServicingError:
        if exc.revert is not None and exc.error_name == "AccessControlUnauthorizedAccount":
            needed = bytes(exc.revert.args.get("neededRole", b""))
            name = ROLE_NAMES.get(needed, "0x" + needed.hex())
            account = Web3.to_checksum_address(str(exc.revert.args.get("account")))
            return MissingRole(
                f"The account {account} lacks {name} on the ledger: {action} failed."
            )
        return explained(exc, action)

    def _require_role(self, role_name: str, action: str) -> None:
        account = self.account
        if not self.has_role(role_name, account):
            raise MissingRole(
                f"The account {account} lacks {role_name} on the ledger, so it cannot {action}."
            )

    def _open_loan(self, loan_id: int, allow_defaulted: bool) -> dict[str, Any]:
        v = self.loan_view(loan_id)
        status = LoanStatus(int(v["status"]))
        if status is LoanStatus.CLOSED or (status is LoanStatus.DEFAULTED and not allow_defaulted):
            raise LoanNotOpen(f"Loan {loan_id} is {status.label}.")
        return v

    def ensure_allowance(self, amount: int, approve: bool = True) -> HexBytes | None:
        """Approve the ledger for ``amount`` when the allowance is short (or refuse)."""
        owner = self.account
        current = self.allowance(owner)
        if current >= amount:
            return None
        if not approve:
            raise InsufficientFunds(
                f"The account {owner} allows the ledger only {self.show(current)} but "
                f"{self.show(amount)} is needed; approve it first or drop --no-approve."
            )
        receipt = self._send(
            self.token.functions.approve(self.ledger.address, amount), "Approving the ledger"
        )
        return receipt["transactionHash"]

    def _require_balance(self, amount: int, what: str) -> None:
        owner = self.account
        held = self.balance(owner)
        if held < amount:
            raise InsufficientFunds(
                f"The account {owner} holds {self.show(held)} but {what} needs {self.show(amount)}."
            )
