"""The errors of deployment: contracts that cannot be deployed, manifests that do not match.

Every one derives from :class:`loanservicing.errors.LoanServicingError`.
"""

from __future__ import annotations

from loanservicing.errors import LoanServicingError

__all__ = ["DeploymentError", "DeploymentMismatch"]


class DeploymentError(LoanServicingError):
    """The contracts cannot be deployed or a deployment file cannot be read."""


class DeploymentMismatch(DeploymentError):
    """A deployment file that does not describe the contracts on this node."""
