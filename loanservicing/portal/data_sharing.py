"""The data-sharing deployment the portal shows, when it was started with one: the attestation
and consent registries (read from the chain: the event index holds the servicing contracts
only), the vault whose access log borrowers see, and the folder the regulator's audit bundles
are written to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from loanservicing.chain.reverts import RevertDecoder
from loanservicing.deployment.bindings import DataContracts
from loanservicing.sharing.attestations import AttestationClient
from loanservicing.sharing.consent import ConsentClient
from loanservicing.sharing.vault import Vault

__all__ = ["PortalDataSharing"]


@dataclass(frozen=True)
class PortalDataSharing:
    """``vault``: the vault whose log the borrower page shows (None: no vault on this host);
    ``bundles_dir``: where audit bundles asked for in the portal are kept."""

    w3: Web3
    contracts: DataContracts
    decoder: RevertDecoder
    bundles_dir: Path
    vault: Vault | None = None

    def attestations(self) -> AttestationClient:
        return AttestationClient(self.w3, self.contracts.attestation_registry, self.decoder)

    def consents(self) -> ConsentClient:
        return ConsentClient(self.w3, self.contracts.consent_registry, self.decoder)
