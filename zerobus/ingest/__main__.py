"""``python -m zerobus.ingest``: the same command as ``zerobus-ingest``."""

from zerobus.ingest.cli import main

main()
