"""A data-sharing scenario on a dev chain, for the demo and the tests: attesters vouch for
borrowers' employment, income and identity; borrowers consent to their lender; the lender
requires attestations before lending; a bureau is refused without consent; a regulator reads
under a recorded legal basis; one borrower is erased.

``run_data_sharing`` returns a summary of what was shared with whom. It uses node-managed dev
accounts to send transactions and their mnemonic-derived keys to sign.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from loanservicing.amounts import iso_date
from loanservicing.chain.accounts import Signer, TransactionSender, dev_signer
from loanservicing.chain.node import chain_time
from loanservicing.chain.transactions import send
from loanservicing.deployment.bindings import DataContracts, bind_data, revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_contract, deploy_data_sharing
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.borrower_signature import PLAIN_CALENDAR, TermsSigner
from loanservicing.sharing.attestations import (
    ATTESTER_KINDS,
    AttestationClient,
    claim_type_id,
    sign_attestation_for_wallet,
)
from loanservicing.sharing.consent import ConsentClient, category_names, parse_categories
from loanservicing.sharing.errors import AccessDenied
from loanservicing.sharing.vault import Vault, sign_access_request

__all__ = [
    "REGULATOR_ACCOUNT",
    "SAMPLE_PEOPLE",
    "DataSharingSummary",
    "Person",
    "dev_keys",
    "personal_values",
    "run_data_sharing",
]

REGULATOR_ACCOUNT = 9  # the dev account the scenario grants the regulator role


@dataclass(frozen=True)
class Person:
    """One borrower's off-chain personal data (never sent to the chain)."""

    name: str
    national_id: str
    date_of_birth: str
    address: str
    employer: str
    position: str
    annual_income: str

    def documents(self) -> dict[str, dict[str, Any]]:
        return {
            "identity": {
                "name": self.name,
                "national_id": self.national_id,
                "date_of_birth": self.date_of_birth,
                "address": self.address,
            },
            "employment": {"employer": self.employer, "position": self.position},
            "income": {"employer": self.employer, "annual_income": self.annual_income},
        }


SAMPLE_PEOPLE: tuple[Person, ...] = (
    Person(
        "Marta Kowalczyk-Brennan",
        "PL-84031207651",
        "1984-03-12",
        "ul. Świętojańska 41, 81-391 Gdynia",
        "Zakłady Optyczne Brennan Sp. z o.o.",
        "Quality engineer",
        "87350 EUR",
    ),
    Person(
        "Jean-Baptiste Okonkwo-Lefèvre",
        "FR-1870675116042",
        "1987-06-07",
        "17 rue des Tanneurs, 67000 Strasbourg",
        "Boulangerie Lefèvre et Fils SARL",
        "Head baker",
        "41820 EUR",
    ),
    Person(
        "Siobhán Ní Dhubhghaill",
        "IE-7304519QA",
        "1973-11-30",
        "4 Ardnagreena Terrace, Cork T12 X2F7",
        "Corcaigh Maritime Logistics Ltd",
        "Fleet manager",
        "112400 EUR",
    ),
)


def personal_values(people: tuple[Person, ...] = SAMPLE_PEOPLE) -> list[str]:
    """Every personal value of ``people``, in the spellings a leak might use."""
    values: list[str] = []
    for p in people:
        values += [p.name, p.national_id, p.date_of_birth, p.address, p.employer, p.position]
        values.append(p.annual_income)
        amount = p.annual_income.split()[0]
        values += [amount, f"{int(amount):,}"]
        values += p.name.split()  # each part of the name on its own
    return [v for v in dict.fromkeys(values) if len(v) >= 4]


def dev_keys(count: int = 10) -> list[LocalAccount]:
    """Anvil's dev accounts' keys (the public test mnemonic's first ``count``)."""
    return [dev_signer(i).local_account() for i in range(count)]


@dataclass
class DataSharingSummary:
    contracts: DataContracts
    attestations: list[dict[str, Any]] = field(default_factory=list)
    consents: list[dict[str, Any]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    loans: list[int] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)

    def shared_with_whom(self) -> list[str]:
        """One sentence per consent and per read, for the demo's summary."""
        lines = [
            f"{c['borrower']} let {c['viewer']} read its {_listed(c['categories'])} data "
            f"until {iso_date(c['until'])[:10]}."
            for c in self.consents
        ]
        lines += [
            f"{r['reader']} {'read' if r['granted'] else 'was refused'} the {r['category']} "
            f"data of {r['subject']}{' under a recorded legal basis' if r['regulator'] else ''}."
            for r in self.reads
        ]
        lines += [f"{s} was erased (keys and salts destroyed)." for s in self.erased]
        return lines


def _listed(names: list[str]) -> str:
    """``identity, employment and income``."""
    if len(names) < 2:
        return "".join(names) or "no"
    return f"{', '.join(names[:-1])} and {names[-1]}"


def run_data_sharing(
    w3: Web3,
    artifacts: dict[str, ContractArtifact],
    ledger: Contract,
    token: Contract,
    vault_dir: Path,
    keys: list[LocalAccount] | None = None,
    people: tuple[Person, ...] = SAMPLE_PEOPLE,
    principal: int = 5_000 * 10**6,
    enforce_policy: bool = True,
    key_store: Path | None = None,
) -> DataSharingSummary:
    """Run the scenario. Accounts (dev key indices): 0 admin and lender (holds the ledger's
    admin and originator roles and owns ``token``), 1..len(people) borrowers, 7 employer,
    8 credit bureau, 6 owner of the KYC provider's ERC-1271 wallet, 9 regulator.

    With ``enforce_policy`` the attestation policy becomes the ledger's origination policy and
    the lender (account 0) requires identity and income attestations from the KYC wallet or
    the employer: any later loan of account 0 to a borrower without them is refused."""
    keys = keys or dev_keys()
    decoder = revert_decoder(artifacts)
    admin = keys[0].address
    borrowers = [keys[1 + i] for i in range(len(people))]
    employer, bureau, kyc_owner = keys[7], keys[8], keys[6]
    regulator = keys[REGULATOR_ACCOUNT]

    data = deploy_data_sharing(
        TransactionSender(w3, Signer(keys[0], "dev account 0"), decoder),
        artifacts,
        regulators=[regulator.address],
        ledger=ledger.address,
        set_policy=enforce_policy,
    )
    contracts = bind_data(w3, data, artifacts)
    summary = DataSharingSummary(contracts)
    attest = AttestationClient(w3, contracts.attestation_registry, decoder)
    consents = ConsentClient(w3, contracts.consent_registry, decoder)
    vault = Vault(vault_dir / "vault.db", key_store or vault_dir / "keys" / "keys.db", consents)
    kyc_wallet = deploy_contract(
        TransactionSender(w3, Signer(kyc_owner, "dev account 6"), decoder),
        artifacts["ERC1271Wallet"],
        kyc_owner.address,
    )
    attest.register_attester(admin, employer.address, "employer")
    attest.register_attester(admin, bureau.address, "credit-bureau")
    attest.register_attester(admin, kyc_wallet.address, "kyc-provider")
    assert ATTESTER_KINDS["kyc-provider"] == 3
    send(
        w3,
        contracts.policy.functions.setRequirements(
            admin,
            [claim_type_id("identity"), claim_type_id("income")],
            [employer.address, kyc_wallet.address],
        ),
        admin,
        decoder,
        "Setting the lender's requirements",
    )

    now = chain_time(w3)
    for person, borrower in zip(people, borrowers, strict=True):
        for category, document in person.documents().items():
            stored = vault.store(borrower.address, category, document)
            valid_until = now + 365 * DAY
            if category == "identity":
                signed = sign_attestation_for_wallet(
                    kyc_owner,
                    kyc_wallet.address,
                    contracts.attestation_registry.address,
                    int(w3.eth.chain_id),
                    borrower.address,
                    claim_type_id(category),
                    stored.claim_hash,
                    valid_until,
                )
            else:
                signed = attest.sign(
                    employer,
                    borrower.address,
                    claim_type_id(category),
                    stored.claim_hash,
                    valid_until,
                )
            attestation_id, _ = attest.submit(signed, admin)  # the lender relays: no gas for them
            vault.link_attestation(stored.document_id, attestation_id)
            summary.attestations.append(
                {"id": attestation_id, "subject": borrower.address, "type": category,
                 "attester": signed.attester}
            )  # fmt: skip
        until = chain_time(w3) + 90 * DAY
        categories = parse_categories("identity,employment,income")
        consents.grant(borrower.address, admin, categories, until)
        summary.consents.append(
            {"borrower": borrower.address, "viewer": admin,
             "categories": category_names(categories), "until": until}
        )  # fmt: skip

    def read(reader: LocalAccount, subject: ChecksumAddress, category: str, **kw: Any) -> None:
        request = sign_access_request(reader, subject, category, chain_time(w3), **kw)
        try:
            vault.read(request)
            granted = True
        except AccessDenied:
            granted = False
        summary.reads.append(
            {"reader": reader.address, "subject": subject, "category": category,
             "granted": granted, "regulator": "access_tx" in kw}
        )  # fmt: skip

    for borrower in borrowers:
        read(keys[0], borrower.address, "income")
    read(bureau, borrowers[0].address, "income")  # no consent: refused and logged
    basis = "Art. 6(1)(c) GDPR; supervisory inspection of consumer lending, file 2026/17"
    access = consents.record_regulator_access(
        regulator.address, borrowers[-1].address, parse_categories("identity"), basis
    )
    read(
        regulator,
        borrowers[-1].address,
        "identity",
        access_tx=access.tx_hash.to_0x_hex(),
        legal_basis=basis,
    )

    send(w3, token.functions.mint(admin, principal * len(borrowers)), admin, decoder)
    send(w3, token.functions.approve(ledger.address, 2**256 - 1), admin, decoder)
    signer = TermsSigner(ledger)
    for borrower in borrowers:
        start = chain_time(w3)
        terms = (borrower.address, token.address, principal, 1200, 12, 30 * DAY,
                 start + 30 * DAY, 0, 5 * DAY, 500, 600, 90, *PLAIN_CALENDAR)  # fmt: skip
        # The borrower signs its terms (EIP-712); the lender sends them.
        fn = signer.originate(borrower, terms, admin, start + DAY)
        receipt = send(w3, fn, admin, decoder, "Originating")
        (event,) = ledger.events.LoanOriginated().process_receipt(receipt, errors=DISCARD)
        loan_id = int(event["args"]["loanId"])
        summary.loans.append(loan_id)
        send(w3, token.functions.approve(ledger.address, 2**256 - 1), borrower.address, decoder)
        send(w3, ledger.functions.repay(loan_id, principal // 10), borrower.address, decoder)

    erased = borrowers[0].address
    vault.erase(erased, requested_by=erased)
    summary.erased.append(erased)
    return summary
