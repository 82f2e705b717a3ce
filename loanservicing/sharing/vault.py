"""The personal-data vault: borrowers' documents off chain, encrypted, consent-checked, logged,
and erasable by destroying keys (crypto-shredding).

Two SQLite files, kept apart (different disks or hosts in production):

* the **data store** (``vault.db``): documents as AES-256-GCM ciphertexts, and the access log;
* the **key store** (``keys.db``): one random data key per borrower (per key generation), the
  32-byte salt of every document's on-chain claim hash, the erasure register, and the head
  (last sequence number and hash) of the access log.

A read is a request signed by the reader's key (EIP-191), checked against the chain: the
reader needs the borrower's unexpired consent for the document's category, or, for a
regulator, a ``RegulatorAccessed`` record on chain naming the reader, the borrower, the
category and the keccak256 of the legal basis the reader states (each record serves one
read). The borrower may always read their own data. Every decision, refusals included, is
appended to the access log, where each entry carries the SHA-256 of the previous one; the key
store keeps the head, so an edited, removed, reordered or truncated entry is detected.

Erasure deletes the borrower's data keys and salts from the key store (with SQLite's
``secure_delete`` and a ``VACUUM`` so the bytes leave the file): the ciphertexts become
unreadable and the claim hashes on chain can no longer be linked to any document, while every
on-chain figure stays as it was.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3

from loanservicing.sharing.attestations import canonical_json, claim_hash, new_salt
from loanservicing.sharing.consent import ConsentClient, category_bit, legal_basis_hash
from loanservicing.sharing.errors import (
    AccessDenied,
    DataSharingError,
    DocumentErased,
    DocumentNotFound,
)

__all__ = [
    "REQUEST_MAX_AGE_S",
    "AccessRequest",
    "LogCheck",
    "LogEntry",
    "StoredDocument",
    "Vault",
    "sign_access_request",
]

logger = logging.getLogger(__name__)

REQUEST_MAX_AGE_S = 300
GENESIS_HASH = "0" * 64

_DATA_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    document_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    category TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    claim_hash TEXT NOT NULL,
    attestation_id INTEGER,
    stored_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_subject ON documents (subject, category);
CREATE TABLE IF NOT EXISTS access_log (
    seq INTEGER PRIMARY KEY,
    entry TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);
"""

_KEY_SCHEMA = """
CREATE TABLE IF NOT EXISTS data_keys (
    key_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    data_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS salts (
    document_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    salt BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS erasures (
    subject TEXT NOT NULL,
    erased_at INTEGER NOT NULL,
    keys_destroyed INTEGER NOT NULL,
    salts_destroyed INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS log_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    entry_hash TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class StoredDocument:
    document_id: str
    subject: ChecksumAddress
    category: str
    salt: bytes
    claim_hash: bytes


@dataclass(frozen=True)
class AccessRequest:
    """A read request signed by the reader. ``access_tx`` and ``legal_basis`` are for a
    regulator: the transaction that recorded the access on chain and the basis's text."""

    reader: ChecksumAddress
    subject: ChecksumAddress
    category: str
    issued_at: int
    signature: bytes
    access_tx: str | None = None
    legal_basis: str | None = None

    def message(self) -> str:
        return _request_text(
            self.reader, self.subject, self.category, self.issued_at, self.access_tx
        )


@dataclass(frozen=True)
class LogEntry:
    seq: int
    at: int
    chain_time: int
    action: str
    actor: str
    subject: str
    category: str
    decision: str
    detail: str
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True)
class LogCheck:
    ok: bool
    entries: int
    problems: list[str]


def _request_text(
    reader: str, subject: str, category: str, issued_at: int, access_tx: str | None
) -> str:
    return (
        "loanservicing vault read\n"
        f"reader: {reader}\nsubject: {subject}\ncategory: {category}\n"
        f"issued at: {issued_at}\naccess record: {access_tx or '-'}"
    )


def sign_access_request(
    reader: LocalAccount,
    subject: ChecksumAddress,
    category: str,
    issued_at: int,
    access_tx: str | None = None,
    legal_basis: str | None = None,
) -> AccessRequest:
    """The reader signs a request to read ``subject``'s ``category`` document."""
    text = _request_text(reader.address, subject, category, issued_at, access_tx)
    signature = reader.sign_message(encode_defunct(text=text)).signature
    return AccessRequest(
        reader.address, subject, category, issued_at, bytes(signature), access_tx, legal_basis
    )


def _entry_hash(prev_hash: str, entry_json: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{entry_json}".encode()).hexdigest()


@contextmanager
def _readable(path: Path, what: str) -> Iterator[None]:
    """Turns SQLite's refusal of a damaged or foreign file into one sentence."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise DataSharingError(
            f"The {what} {path} cannot be read ({exc}): restore it from a backup."
        ) from None


class Vault:
    """Encrypted document storage with consent-checked, logged reads and erasure."""

    def __init__(
        self,
        data_path: Path,
        key_path: Path,
        consents: ConsentClient | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        if Path(data_path).resolve() == Path(key_path).resolve():
            raise DataSharingError("The key store must be a different file from the data store.")
        self.data_path = Path(data_path)
        self.key_path = Path(key_path)
        self.consents = consents
        self._clock = clock or (lambda: int(time.time()))
        for path in (self.data_path, self.key_path):
            # Raw data keys and personal documents: the owner's only (0700 folders, 0600 files).
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():
                path.touch(mode=0o600)
        with self._data() as db:
            db.executescript(_DATA_SCHEMA)
        with self._keys() as db:
            db.executescript(_KEY_SCHEMA)

    # -- connections ---------------------------------------------------------------
    @contextmanager
    def _data(self) -> Iterator[sqlite3.Connection]:
        with (
            _readable(self.data_path, "vault database"),
            closing(sqlite3.connect(self.data_path)) as db,
            db,
        ):
            yield db

    @contextmanager
    def _keys(self) -> Iterator[sqlite3.Connection]:
        with (
            _readable(self.key_path, "vault key store"),
            closing(sqlite3.connect(self.key_path)) as db,
        ):
            db.execute("PRAGMA secure_delete = ON")
            with db:
                yield db

    def _chain_time(self) -> int:
        if self.consents is None:
            return self._clock()
        return int(self.consents.w3.eth.get_block("latest")["timestamp"])

    # -- storing -------------------------------------------------------------------
    def store(
        self, subject: str, category: str, document: Any, salt: bytes | None = None
    ) -> StoredDocument:
        """Encrypt and store ``document`` (JSON) as ``subject``'s ``category`` document, with a
        fresh salt for its claim hash (returned: the attester signs the hash)."""
        category_bit(category)
        subject = Web3.to_checksum_address(subject)
        salt = salt or new_salt()
        hash_ = claim_hash(document, salt)
        document_id = uuid.uuid4().hex
        key_id, key = self._data_key(subject)
        nonce = secrets.token_bytes(12)
        aad = f"{document_id}|{subject}|{category}".encode()
        ciphertext = AESGCM(key).encrypt(nonce, canonical_json(document), aad)
        with self._keys() as keys:
            keys.execute(
                "INSERT INTO salts (document_id, subject, salt) VALUES (?, ?, ?)",
                (document_id, subject, salt),
            )
        with self._data() as db:
            db.execute(
                "INSERT INTO documents (document_id, subject, category, key_id, nonce, ciphertext,"
                " claim_hash, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (document_id, subject, category, key_id, nonce, ciphertext, hash_.hex(),
                 self._clock()),
            )  # fmt: skip
        self._log("store", "vault", subject, category, "done", f"document {document_id}")
        return StoredDocument(document_id, subject, category, salt, hash_)

    def link_attestation(self, document_id: str, attestation_id: int) -> None:
        """Remember which on-chain attestation vouches for ``document_id``."""
        with self._data() as db:
            db.execute(
                "UPDATE documents SET attestation_id = ? WHERE document_id = ?",
                (attestation_id, document_id),
            )

    def document_for_attestation(self, attestation_id: int) -> str | None:
        with self._data() as db:
            row = db.execute(
                "SELECT document_id FROM documents WHERE attestation_id = ?", (attestation_id,)
            ).fetchone()
        return str(row[0]) if row else None

    def salt(self, document_id: str) -> bytes | None:
        """The claim salt of ``document_id``; None once erased (or never stored)."""
        with self._keys() as keys:
            row = keys.execute(
                "SELECT salt FROM salts WHERE document_id = ?", (document_id,)
            ).fetchone()
        return bytes(row[0]) if row else None

    def _data_key(self, subject: str) -> tuple[str, bytes]:
        with self._keys() as keys:
            row = keys.execute(
                "SELECT key_id, data_key FROM data_keys WHERE subject = ? "
                "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                (subject,),
            ).fetchone()
            if row:
                return str(row[0]), bytes(row[1])
            key_id, key = uuid.uuid4().hex, AESGCM.generate_key(bit_length=256)
            keys.execute(
                "INSERT INTO data_keys (key_id, subject, data_key, created_at) VALUES (?, ?, ?, ?)",
                (key_id, subject, key, self._clock()),
            )
            return key_id, key

    # -- reading -------------------------------------------------------------------
    def read(self, request: AccessRequest) -> Any:
        """Decrypt ``request.subject``'s newest ``request.category`` document for the reader,
        after checking the signature and the on-chain consent or regulator record. Refusals
        raise AccessDenied and are logged like grants."""
        bit = category_bit(request.category)
        subject = Web3.to_checksum_address(request.subject)
        reader = Web3.to_checksum_address(request.reader)
        decision = self._authorise(request, reader, subject, bit)
        action = "regulator-read" if request.access_tx else "read"
        if decision is not None:
            self._log(action, reader, subject, request.category, "refused", decision)
            raise AccessDenied(decision)
        with self._data() as db:
            row = db.execute(
                "SELECT document_id, key_id, nonce, ciphertext FROM documents "
                "WHERE subject = ? AND category = ? ORDER BY stored_at DESC, rowid DESC LIMIT 1",
                (subject, request.category),
            ).fetchone()
        if row is None:
            self._log(action, reader, subject, request.category, "refused", "no such document")
            raise DocumentNotFound(f"The vault holds no {request.category} document of {subject}.")
        document_id, key_id, nonce, ciphertext = row
        with self._keys() as keys:
            key_row = keys.execute(
                "SELECT data_key FROM data_keys WHERE key_id = ?", (key_id,)
            ).fetchone()
        if key_row is None:
            self._log(action, reader, subject, request.category, "refused", "erased")
            raise DocumentErased(
                f"The {request.category} data of {subject} was erased: its key is destroyed."
            )
        aad = f"{document_id}|{subject}|{request.category}".encode()
        try:
            plaintext = AESGCM(bytes(key_row[0])).decrypt(bytes(nonce), bytes(ciphertext), aad)
        except InvalidTag:
            raise DataSharingError(
                f"Document {document_id} fails its integrity check; it was altered."
            ) from None
        basis = ""
        if request.access_tx:
            basis = f"; access record {request.access_tx}"
        self._log(
            action, reader, subject, request.category, "granted", f"document {document_id}{basis}"
        )
        return json.loads(plaintext)

    def _authorise(
        self, request: AccessRequest, reader: ChecksumAddress, subject: ChecksumAddress, bit: int
    ) -> str | None:
        """None when the read is allowed, else the reason it is refused (a sentence)."""
        try:
            signer = Account.recover_message(
                encode_defunct(text=request.message()), signature=request.signature
            )
        except Exception:  # malformed signature bytes
            signer = None
        if signer != reader:
            return f"The read request is not signed by {reader}."
        now = self._chain_time()
        if not now - REQUEST_MAX_AGE_S <= request.issued_at <= now + REQUEST_MAX_AGE_S:
            return (
                f"The read request was issued at {request.issued_at}, more than "
                f"{REQUEST_MAX_AGE_S} s away from chain time {now}."
            )
        if reader == subject:
            return None
        if self.consents is None:
            return "The vault has no consent registry to check against."
        if request.access_tx:
            return self._check_regulator(request, reader, subject, bit)
        if not self.consents.has_consent(subject, reader, bit):
            return f"{reader} has no consent of {subject} to read {request.category} data."
        return None

    def _check_regulator(
        self, request: AccessRequest, reader: ChecksumAddress, subject: ChecksumAddress, bit: int
    ) -> str | None:
        assert self.consents is not None
        try:
            access = self.consents.regulator_access(str(request.access_tx))
        except Exception:  # unknown transaction hash
            access = None
        if access is None:
            return f"Transaction {request.access_tx} recorded no regulator access."
        if access.regulator != reader or access.borrower != subject:
            return f"Access record {access.access_id} is not {reader}'s access to {subject}."
        if not access.categories & bit:
            return f"Access record {access.access_id} does not cover {request.category} data."
        if request.legal_basis is None or access.legal_basis_hash != legal_basis_hash(
            request.legal_basis
        ):
            return f"The stated legal basis does not match access record {access.access_id}."
        if not self.consents.is_regulator(reader):
            return f"{reader} no longer holds the regulator role."
        marker = f"access record {request.access_tx}"
        for entry in self.log_entries(subject):
            if entry.decision == "granted" and marker in entry.detail:
                return f"Access record {access.access_id} was already used for a read."
        return None

    # -- erasure -------------------------------------------------------------------
    def erase(self, subject: str, requested_by: str = "vault") -> dict[str, int]:
        """Crypto-shred ``subject``'s data: destroy the data keys and claim salts. Refused
        (nothing logged) when the vault holds nothing of ``subject`` or already erased it."""
        subject = Web3.to_checksum_address(subject)
        with self._keys() as keys:
            held = sum(
                int(keys.execute(f"SELECT COUNT(*) FROM {table} WHERE subject = ?", (subject,))
                    .fetchone()[0])
                for table in ("data_keys", "salts")
            )  # fmt: skip
        if held == 0:
            if self.is_erased(subject):
                raise DataSharingError(f"The data of {subject} was already erased.")
            raise DocumentNotFound(f"The vault holds no data of {subject}: nothing to erase.")
        with self._keys() as keys:
            destroyed_keys = keys.execute(
                "DELETE FROM data_keys WHERE subject = ?", (subject,)
            ).rowcount
            destroyed_salts = keys.execute(
                "DELETE FROM salts WHERE subject = ?", (subject,)
            ).rowcount
            keys.execute(
                "INSERT INTO erasures (subject, erased_at, keys_destroyed, salts_destroyed) "
                "VALUES (?, ?, ?, ?)",
                (subject, self._clock(), destroyed_keys, destroyed_salts),
            )
        with closing(sqlite3.connect(self.key_path)) as keys:
            keys.execute("VACUUM")
        with self._data() as db:
            documents = db.execute(
                "SELECT COUNT(*) FROM documents WHERE subject = ?", (subject,)
            ).fetchone()[0]
        result = {
            "documents": int(documents),
            "keys_destroyed": destroyed_keys,
            "salts_destroyed": destroyed_salts,
        }
        self._log("erase", requested_by, subject, "*", "done", json.dumps(result, sort_keys=True))
        return result

    def is_erased(self, subject: str) -> bool:
        subject = Web3.to_checksum_address(subject)
        with self._keys() as keys:
            erased = keys.execute(
                "SELECT COUNT(*) FROM erasures WHERE subject = ?", (subject,)
            ).fetchone()[0]
            live = keys.execute(
                "SELECT COUNT(*) FROM data_keys WHERE subject = ?", (subject,)
            ).fetchone()[0]
        return bool(erased) and not live

    # -- access log ----------------------------------------------------------------
    def _log(
        self, action: str, actor: str, subject: str, category: str, decision: str, detail: str
    ) -> LogEntry:
        chain_time = self._chain_time()
        with self._data() as db, self._keys() as keys:
            last = db.execute(
                "SELECT seq, entry_hash FROM access_log ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            seq, prev_hash = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS_HASH)
            fields = {
                "seq": seq,
                "at": self._clock(),
                "chain_time": chain_time,
                "action": action,
                "actor": actor,
                "subject": subject,
                "category": category,
                "decision": decision,
                "detail": detail,
            }
            entry_json = json.dumps(fields, sort_keys=True, separators=(",", ":"))
            entry_hash = _entry_hash(prev_hash, entry_json)
            db.execute(
                "INSERT INTO access_log (seq, entry, prev_hash, entry_hash) VALUES (?, ?, ?, ?)",
                (seq, entry_json, prev_hash, entry_hash),
            )
            keys.execute(
                "INSERT OR REPLACE INTO log_head (id, seq, entry_hash) VALUES (1, ?, ?)",
                (seq, entry_hash),
            )
        logger.info("vault %s %s %s %s: %s", action, subject, category, decision, detail)
        return LogEntry(**fields, prev_hash=prev_hash, entry_hash=entry_hash)  # type: ignore[arg-type]

    def log_entries(self, subject: str | None = None) -> list[LogEntry]:
        with self._data() as db:
            rows = db.execute(
                "SELECT entry, prev_hash, entry_hash FROM access_log ORDER BY seq"
            ).fetchall()
        entries = [
            LogEntry(**json.loads(entry), prev_hash=prev, entry_hash=hash_)
            for entry, prev, hash_ in rows
        ]
        if subject is not None:
            subject = Web3.to_checksum_address(subject)
            entries = [e for e in entries if e.subject == subject]
        return entries

    def verify_log(self) -> LogCheck:
        """Walk the whole hash chain; name every break."""
        problems: list[str] = []
        with self._data() as db:
            rows = db.execute(
                "SELECT seq, entry, prev_hash, entry_hash FROM access_log ORDER BY seq"
            ).fetchall()
        with self._keys() as keys:
            head = keys.execute("SELECT seq, entry_hash FROM log_head WHERE id = 1").fetchone()
        prev_hash, expected_seq = GENESIS_HASH, 1
        for seq, entry_json, stored_prev, stored_hash in rows:
            if seq != expected_seq:
                problems.append(f"Entry {expected_seq} is missing (the next entry is {seq}).")
            if stored_prev != prev_hash:
                problems.append(f"Entry {seq} does not follow the entry before it.")
            if _entry_hash(stored_prev, entry_json) != stored_hash:
                problems.append(f"Entry {seq} was edited: its hash does not match its content.")
            try:
                if json.loads(entry_json).get("seq") != seq:
                    problems.append(f"Entry {seq} carries another sequence number.")
            except ValueError:
                problems.append(f"Entry {seq} is not valid JSON.")
            prev_hash, expected_seq = stored_hash, seq + 1
        if head is None:
            if rows:
                problems.append("The key store has no log head, but the log has entries.")
        else:
            head_seq, head_hash = int(head[0]), str(head[1])
            if head_seq != expected_seq - 1 or head_hash != prev_hash:
                problems.append(
                    f"The log ends at entry {expected_seq - 1}, but the key store's head is "
                    f"entry {head_seq}: entries were removed from the end or replaced."
                )
        return LogCheck(not problems, len(rows), problems)

    def log_as_dicts(self, subject: str | None = None) -> list[dict[str, Any]]:
        return [asdict(e) for e in self.log_entries(subject)]
