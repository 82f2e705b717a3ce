"""``python -m loanservicing.cli``: the ``loanservicing`` command."""

from loanservicing.cli import main

main()
