"""Exceptions of the data-sharing layer (attestations, consent, vault, audit export)."""

from __future__ import annotations

from loanservicing.errors import LoanServicingError

__all__ = [
    "AccessDenied",
    "AuditMismatch",
    "DataSharingError",
    "DocumentErased",
    "DocumentNotFound",
    "InvalidContact",
    "LogTampered",
]


class DataSharingError(LoanServicingError):
    """Root of the data-sharing errors."""


class AccessDenied(DataSharingError):
    """The reader has no on-chain consent (nor a recorded regulator access) for this read."""


class DocumentNotFound(DataSharingError):
    """The vault holds no document for this subject and category."""


class DocumentErased(DataSharingError):
    """The subject's data key was destroyed: the documents can no longer be decrypted."""


class InvalidContact(DataSharingError):
    """A ``contact`` document (or an address to store as one) holds no valid e-mail address."""


class LogTampered(DataSharingError):
    """The vault's access log does not verify: an entry was edited, removed or reordered."""


class AuditMismatch(DataSharingError):
    """An audit bundle does not match the chain."""
