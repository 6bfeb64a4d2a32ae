"""Internal: `ZerobusDataSource`: the ``zerobus`` format of Spark's Python Data Source API (write only)."""

from __future__ import annotations

import logging
from typing import Any

import requests
from pyspark.sql.datasource import DataSource

from zerobus.codegen.api import load_schema
from zerobus.errors import ConfigurationError
from zerobus.schema.ir import TableSchema
from zerobus.spark.settings import WriteSettings, resolve_settings
from zerobus.spark.writers import ZerobusBatchWriter, ZerobusStreamWriter

__all__ = ["ZerobusDataSource"]

logger = logging.getLogger(__name__)


class ZerobusDataSource(DataSource):
    """Writes a DataFrame into a Delta table through Zerobus Ingest (append only, at-least-once).

    Options: ``table`` (required), ``endpoint``, ``workspace_url``, ``client_id``,
    ``client_secret`` (each falls back to ``ZEROBUS_SERVER_ENDPOINT``, ``DATABRICKS_HOST``,
    ``DATABRICKS_CLIENT_ID``, ``DATABRICKS_CLIENT_SECRET``), ``root_certificates`` (a CA PEM
    file), and the SDK's stream options (``max_inflight_records``, ``flush_timeout_ms``,
    ``recovery``, ``recovery_retries``, ...).
    """

    @classmethod
    def name(cls) -> str:
        return "zerobus"

    def writer(self, schema: Any, overwrite: bool) -> ZerobusBatchWriter:
        settings = self._settings(overwrite)
        return ZerobusBatchWriter(settings, _table_schema(settings), schema)

    def streamWriter(self, schema: Any, overwrite: bool) -> ZerobusStreamWriter:  # noqa: N802
        settings = self._settings(overwrite)
        return ZerobusStreamWriter(settings, _table_schema(settings), schema)

    def _settings(self, overwrite: bool) -> WriteSettings:
        if overwrite:
            raise ConfigurationError(
                'zerobus data source: only mode("append") is supported (Zerobus Ingest appends rows; '
                "it cannot replace a table's contents)"
            )
        return resolve_settings(dict(self.options))


def _table_schema(settings: WriteSettings) -> TableSchema:
    """The table's schema, read from Unity Catalog once for the whole job (tasks reuse it)."""
    session = requests.Session()
    if settings.root_certificates:
        session.verify = settings.root_certificates
    try:
        logger.info("reading the schema of %s from Unity Catalog", settings.table)
        return load_schema(
            settings.table,
            host=settings.workspace_url,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            session=session,
        )
    finally:
        session.close()
