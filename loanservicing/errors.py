"""Exceptions raised by loanservicing; the CLI turns them into click errors."""


class LoanServicingError(Exception):
    """Root of every error this package raises on purpose; its message is a whole sentence."""


class CompilationError(LoanServicingError):
    """The Solidity compiler rejected the contracts or could not be run."""


class NodeUnreachable(LoanServicingError):
    """No Ethereum JSON-RPC node answered at the given URL, or a local Anvil failed to start."""
