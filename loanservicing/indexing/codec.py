"""Decoding the ledger's and the credit registry's logs: topic0 -> event, words -> arguments.

:class:`EventCodec` precomputes one :class:`EventSpec` per event of each contract. Arguments of
static types are sliced straight out of the hex data word by word (addresses checksummed with a
cache); anything dynamic goes through ``eth_abi.decode``. Both give the same JSON-friendly
shape as web3's decoding (structs as dicts, bytes as 0x-hex, addresses checksummed), which the
index stores and the projections fold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_hash.auto import keccak as _keccak256
from eth_utils.crypto import keccak

from loanservicing.chain.reverts import canonical_type

__all__ = [
    "LEDGER",
    "REGISTRY",
    "DecodedLog",
    "EventCodec",
    "EventSpec",
    "contract_abis",
    "subjects",
]

LEDGER = "ledger"
"""The role of the loan ledger's logs (and its key in the ABIs and the index's metadata)."""
REGISTRY = "credit_registry"
"""The role of the credit registry's logs."""


@lru_cache(maxsize=262_144)
def _checksum_hex(lower: str) -> str:
    """EIP-55 checksum of 40 lowercase hex digits (no 0x), as ``to_checksum_address``."""
    digest = _keccak256(lower.encode()).hex()
    return "0x" + "".join(
        c.upper() if c > "9" and digest[i] > "7" else c for i, c in enumerate(lower)
    )


def _signed(word: str) -> int:
    value = int(word, 16)
    return value - (1 << 256) if value >> 255 else value


def _word_reader(kind: str) -> Callable[[str], Any] | None:
    """A reader of one ABI word given as 64 hex digits, for a static elementary type."""
    if kind.startswith("uint"):
        return lambda w: int(w, 16)
    if kind.startswith("int"):
        return _signed
    if kind == "address":
        return lambda w: _checksum_hex(w[24:].lower())
    if kind == "bool":
        return lambda w: w[63] == "1"
    if kind.startswith("bytes") and kind != "bytes":
        size = int(kind[5:])
        return lambda w: "0x" + w[: 2 * size].lower()
    return None


def _static_layout(params: Sequence[Mapping[str, Any]]) -> list[tuple[str, Any]] | None:
    """(name, reader or nested layout) per parameter when all are static, else None."""
    layout: list[tuple[str, Any]] = []
    for p in params:
        kind = str(p["type"])
        if kind == "tuple":
            nested = _static_layout(p["components"])
            if nested is None:
                return None
            layout.append((str(p["name"]), nested))
            continue
        reader = _word_reader(kind)
        if reader is None:
            return None
        layout.append((str(p["name"]), reader))
    return layout


def _read_static(
    layout: list[tuple[str, Any]], data: str, offset: int
) -> tuple[dict[str, Any], int]:
    """Read words from ``data`` (hex digits after 0x) starting at hex offset ``offset``."""
    values: dict[str, Any] = {}
    for name, reader in layout:
        if isinstance(reader, list):
            values[name], offset = _read_static(reader, data, offset)
        else:
            values[name] = reader(data[offset : offset + 64])
            offset += 64
    return values, offset


def _jsonable(value: Any, param: Mapping[str, Any]) -> Any:
    """eth_abi output to the same JSON-friendly shape as the static fast path."""
    kind = str(param["type"])
    if kind == "tuple":
        return {
            str(c["name"]): _jsonable(v, c) for c, v in zip(param["components"], value, strict=True)
        }
    if kind.endswith("]"):
        inner = {**param, "type": kind[: kind.rindex("[")]}
        return [_jsonable(v, inner) for v in value]
    if kind == "address":
        return _checksum_hex(str(value).lower()[2:])
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _word_expr(kind: str, source: str, start: int) -> str | None:
    """Python source reading the ABI word at hex offset ``start`` of ``source`` as a static
    elementary ``kind`` (as :func:`_word_reader` does), or None for any other type."""
    end = start + 64
    if kind.startswith("uint"):
        return f"int({source}[{start}:{end}], 16)"
    if kind.startswith("int"):
        return f"_signed({source}[{start}:{end}])"
    if kind == "address":
        return f"_checksum_hex({source}[{start + 24}:{end}].lower())"
    if kind == "bool":
        return f"({source}[{end - 1}] == '1')"
    if kind.startswith("bytes") and kind != "bytes":
        return f"'0x' + {source}[{start}:{start + 2 * int(kind[5:])}].lower()"
    return None


def _compiled_reader(
    name: str, inputs: Sequence[Mapping[str, Any]]
) -> Callable[[Sequence[str], str], dict[str, Any]] | None:
    """For an event whose data holds static elementary types only: one generated function
    reading its topics and data (hex with their 0x) straight into the arguments' dict, every
    offset a constant (no call per word); None for any other event."""
    indexed = [p for p in inputs if p.get("indexed")]
    items: list[str] = []
    for k, p in enumerate(indexed, start=1):
        expression = _word_expr(str(p["type"]), f"topics[{k}]", 2)
        items.append(f"{str(p['name'])!r}: {expression or f'topics[{k}]'}")
    for i, p in enumerate(q for q in inputs if not q.get("indexed")):
        expression = _word_expr(str(p["type"]), "data", 2 + 64 * i)
        if expression is None:
            return None
        items.append(f"{str(p['name'])!r}: {expression}")
    message = f"{name} has {len(indexed)} indexed arguments"
    source = (
        "def read(topics, data):\n"
        f"    if len(topics) != {len(indexed) + 1}:\n"
        f"        raise ValueError({message!r})\n"
        f"    return {{{', '.join(items)}}}\n"
    )
    scope: dict[str, Any] = {"_checksum_hex": _checksum_hex, "_signed": _signed}
    exec(compile(source, f"<decoder of {name}>", "exec"), scope)  # our own source
    reader: Callable[[Sequence[str], str], dict[str, Any]] = scope["read"]
    return reader


@dataclass(frozen=True)
class EventSpec:
    """A precomputed decoder for one event of one contract."""

    name: str
    role: str
    topic0: str
    indexed: tuple[tuple[str, Callable[[str], Any] | None], ...]
    data_params: tuple[Mapping[str, Any], ...]
    data_types: tuple[str, ...]
    static_layout: list[tuple[str, Any]] | None
    read: Callable[[Sequence[str], str], dict[str, Any]] | None = None
    """The generated reader of topics and data when the data holds static elementary types
    only (most events)."""

    def decode(self, topics: Sequence[str], data: str) -> dict[str, Any]:
        if self.read is not None:
            return self.read(topics, data)
        args: dict[str, Any] = {}
        if len(topics) != len(self.indexed) + 1:
            raise ValueError(f"{self.name} has {len(self.indexed)} indexed arguments")
        for (name, reader), topic in zip(self.indexed, topics[1:], strict=False):
            args[name] = topic if reader is None else reader(topic[2:])
        if self.static_layout is not None:
            values, _ = _read_static(self.static_layout, data, 2)
            args.update(values)
        else:
            decoded = abi_decode(list(self.data_types), bytes.fromhex(data[2:]))
            for param, value in zip(self.data_params, decoded, strict=True):
                args[str(param["name"])] = _jsonable(value, param)
        return args


@dataclass(slots=True)
class DecodedLog:
    """A log decoded into its event name and arguments, with where it is on chain:
    ``loan_id`` is a ledger event's ``loanId`` and ``borrower`` a registry event's
    ``borrower`` (None otherwise; see :func:`subjects`)."""

    role: str
    event: str
    args: dict[str, Any]
    address: str
    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str
    tx_index: int
    timestamp: int
    loan_id: int | None = None
    borrower: str | None = None


def subjects(role: str, args: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """The loan a ledger event is about and the borrower a registry event is about."""
    if role == LEDGER:
        value = args.get("loanId")
        return (None if value is None else int(value)), None
    value = args.get("borrower") if role == REGISTRY else None
    return None, (None if value is None else str(value))


class EventCodec:
    """topic0 -> event decoder, for the ledger's and the registry's events."""

    def __init__(self, abis: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.specs: dict[tuple[str, str], EventSpec] = {}
        for role, abi in abis.items():
            for item in abi:
                if item.get("type") != "event" or item.get("anonymous"):
                    continue
                spec = self._spec(role, item)
                self.specs[(role, spec.topic0)] = spec

    @staticmethod
    def _spec(role: str, item: Mapping[str, Any]) -> EventSpec:
        inputs = list(item["inputs"])
        signature = f"{item['name']}({','.join(canonical_type(p) for p in inputs)})"
        topic0 = "0x" + keccak(text=signature).hex()
        indexed = tuple(
            (str(p["name"]), _word_reader(str(p["type"]))) for p in inputs if p.get("indexed")
        )
        data_params = tuple(p for p in inputs if not p.get("indexed"))
        layout = _static_layout(data_params)
        return EventSpec(
            name=str(item["name"]),
            role=role,
            topic0=topic0,
            indexed=indexed,
            data_params=data_params,
            data_types=tuple(canonical_type(p) for p in data_params),
            static_layout=layout,
            read=_compiled_reader(str(item["name"]), inputs),
        )

    def topics(self) -> list[str]:
        return sorted({topic for _, topic in self.specs})

    def decode(
        self,
        log: Mapping[str, Any],
        role: str,
        timestamp: int,
        block_number: int | None = None,
    ) -> DecodedLog | None:
        """Decode one raw ``eth_getLogs`` entry; None for an event this codec does not know.
        ``block_number``: the log's, when the caller has read it already."""
        topics = log["topics"]
        if not topics:
            return None
        spec = self.specs.get((role, topics[0]))
        if spec is None:
            return None
        read = spec.read
        args = read(topics, log["data"]) if read is not None else spec.decode(topics, log["data"])
        loan_id, borrower = subjects(role, args)
        return DecodedLog(
            role,
            spec.name,
            args,
            _checksum_hex(log["address"][2:].lower()),
            int(log["blockNumber"], 16) if block_number is None else block_number,
            log["blockHash"],
            int(log["logIndex"], 16),
            log["transactionHash"],
            int(log["transactionIndex"], 16),
            timestamp,
            loan_id,
            borrower,
        )


def contract_abis() -> dict[str, list[dict[str, Any]]]:
    """The ledger's and the registry's ABIs from the compiled artifacts."""
    from loanservicing.deployment.compile import compile_contracts

    artifacts = compile_contracts()
    return {
        LEDGER: list(artifacts["LoanLedger"].abi),
        REGISTRY: list(artifacts["CreditRegistry"].abi),
    }
