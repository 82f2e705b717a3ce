"""Deploy loanservicing to a node: ``python scripts/deploy.py --rpc-url URL [--fresh]``.

A thin wrapper over ``loanservicing deploy`` for people who script deployments; every option
of the command (and the global ones: --rpc-url, --account, --private-key-env, --keystore,
--deployment, --json) is accepted as is.
"""

from __future__ import annotations

import sys

from loanservicing.cli.app import cli

GLOBAL_OPTIONS_WITH_VALUE = {
    "--rpc-url",
    "--account",
    "--private-key-env",
    "--keystore",
    "--deployment",
}


def main(argv: list[str]) -> None:
    """Put the global options before `deploy` and the rest after it."""
    before: list[str] = []
    after: list[str] = []
    args = iter(argv)
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS_WITH_VALUE:
            before.append(arg)
            if "=" not in arg:
                before.append(next(args, ""))
        elif arg in ("-v", "-vv"):
            before.append(arg)
        else:
            after.append(arg)
    cli([*before, "deploy", *after], prog_name="scripts/deploy.py")


if __name__ == "__main__":
    main(sys.argv[1:])
