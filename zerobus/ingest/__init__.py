"""File ingestion: CSV, JSON lines and Parquet files into a Delta table (the ``zerobus-ingest`` CLI).

`ingest_files(settings, workspace)` reads the table's schema from Unity Catalog, opens one
stream, reads each file in batches (`csv_reader`, `jsonl_reader`, `parquet_reader`), feeds
them through the SDK's batch API (`feed`), puts refused rows in a dead-letter file, and
returns a `RunReport` once every row sent has been acknowledged.
"""

from zerobus.ingest.failures import ExitCode
from zerobus.ingest.formats import FileFormat
from zerobus.ingest.report import FileReport, RunReport
from zerobus.ingest.run import IngestSettings, Workspace, ingest_files

__all__ = ["ExitCode", "FileFormat", "FileReport", "IngestSettings", "RunReport", "Workspace", "ingest_files"]
