"""The errors of monitoring: the notice store, the delivery channels and the bureau file.

Every one derives from :class:`loanservicing.errors.LoanServicingError`.
"""

from __future__ import annotations

from loanservicing.errors import LoanServicingError

__all__ = ["BureauReportError", "DeliveryError", "NoticeStoreError"]


class NoticeStoreError(LoanServicingError):
    """The notice tables cannot be used (written by a newer program)."""


class DeliveryError(LoanServicingError):
    """A channel did not take a notice; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class BureauReportError(LoanServicingError):
    """A credit-bureau (Metro 2) file cannot be made as asked: a bad month, a future one."""
