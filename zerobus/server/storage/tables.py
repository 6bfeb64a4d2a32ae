"""Internal: A table at run time: its catalog entry, its durable log and the codecs of its streams.

The stream handler appends to `log` and registers descriptors here; the materializer reads the
log back and decodes frames with the same codecs. Descriptors are persisted next to the log
(``descriptors/<key>.pb``, fsynced before the stream is accepted) so a restarted server can
still decode every frame.
"""

from __future__ import annotations

import threading
from pathlib import Path

from zerobus.server.storage.atomic_files import atomic_write, ensure_directory, remove_stale_temp_files
from zerobus.server.storage.catalog import TableEntry
from zerobus.server.storage.disk_faults import DiskFaults
from zerobus.server.storage.frames import KIND_AVRO, KIND_JSON
from zerobus.server.storage.log import GroupCommitter, TableLog
from zerobus.server.storage.quarantine import FrameQuarantine
from zerobus.server.validation.records import JsonRecordCodec, ProtoRecordCodec, StreamRecordCodec
from zerobus.server.validation.schema_check import compile_descriptor

__all__ = ["TableRuntime"]


class TableRuntime:
    """Everything the server keeps open for one table."""

    def __init__(
        self, entry: TableEntry, committer: GroupCommitter, disk_faults: DiskFaults | None = None
    ) -> None:
        self.entry = entry
        self.log = TableLog(entry.log_dir, committer, disk_faults=disk_faults)
        self._descriptor_dir: Path = entry.root / "descriptors"
        ensure_directory(self._descriptor_dir)
        remove_stale_temp_files(self._descriptor_dir)
        self._lock = threading.Lock()
        self._descriptor_write_lock = threading.Lock()
        self._codecs: dict[tuple[bytes, bytes], StreamRecordCodec] = {}
        self.materialized_seq = -1
        self.dropped = False
        # Frames the materializer could not write: kept on disk, reported, out of the table's way.
        self.quarantine = FrameQuarantine(entry.full_name, entry.root / "quarantine")
        # Why the last materialisation attempt failed (None once one succeeds); it is retried.
        self.materialize_error: str | None = None

    @property
    def app_id(self) -> str:
        """The Delta application id under which this table's log positions are committed."""
        return f"zerobus-emulator/{self.entry.table_id}"

    def add_codec(
        self, kind: bytes, key: bytes, codec: StreamRecordCodec, descriptor_bytes: bytes | None
    ) -> None:
        """Remember a stream's codec; persist its descriptor durably first (for restarts)."""
        if descriptor_bytes is not None:
            path = self._descriptor_dir / f"{key.hex()}.pb"
            # Streams created at once with one schema write its descriptor once; the others wait.
            with self._descriptor_write_lock:
                if not path.exists():
                    atomic_write(path, descriptor_bytes)
        with self._lock:
            self._codecs.setdefault((kind, key), codec)

    def codec(self, kind: bytes, key: bytes) -> StreamRecordCodec:
        """The codec for frames of this kind and descriptor (loaded from disk after a restart)."""
        with self._lock:
            codec = self._codecs.get((kind, key))
        if codec is not None:
            return codec
        if kind == KIND_JSON:
            codec = JsonRecordCodec(self.entry.schema)
        elif kind == KIND_AVRO:
            from zerobus.server.validation.avro_records import avro_stream_codec

            schema_text = (self._descriptor_dir / f"{key.hex()}.pb").read_text("utf-8")
            codec = avro_stream_codec(schema_text, self.entry.schema)[0]
        else:
            descriptor_bytes = (self._descriptor_dir / f"{key.hex()}.pb").read_bytes()
            codec = ProtoRecordCodec(
                self.entry.schema, compile_descriptor(descriptor_bytes, self.entry.schema)
            )
        with self._lock:
            return self._codecs.setdefault((kind, key), codec)
