"""Stream records into Databricks Delta tables over Zerobus Ingest."""

__version__ = "0.1.0"
