"""``python -m zerobus.codegen``: the ``zerobus-codegen`` command."""

from zerobus.codegen.cli import main

main()
