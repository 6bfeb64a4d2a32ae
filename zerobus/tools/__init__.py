"""Command-line tools kept compatible with the official SDK's (``zerobus.tools.generate_proto``)."""
