"""Internal: `generate()`: the files a table implies, and writing or checking them on disk.

The ``zerobus-codegen`` CLI is a thin adapter over these three functions, which library users
call the same way: `generate()` renders (nothing touches the disk), `write_files()` writes
atomically, `check_files()` reports drift without writing.

Files, named after the proto message (the table's name unless ``message_name`` is given):
``<Message>.proto`` (proto2 text), ``<message>_model.py`` (Pydantic models), and with
``descriptor_set=True`` ``<Message>.desc`` (a serialized ``FileDescriptorSet``, what
``protoc --descriptor_set_out`` writes for the .proto), and with ``arrow=True``
``<Message>.arrow_schema`` (the Arrow schema Flight ingestion accepts, as an IPC schema message:
``pyarrow.ipc.read_schema(path)`` loads it; needs pyarrow), and with ``avro=True``
``<Message>.avsc`` (the Avro writer schema AVRO streams send, JSON text).
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2

from zerobus.codegen.model_emit import model_source
from zerobus.codegen.proto_emit import proto_text
from zerobus.errors import NonRetriableException
from zerobus.schema.avro_types import avro_schema_text
from zerobus.schema.descriptor import file_descriptor_proto
from zerobus.schema.ir import TableSchema
from zerobus.schema.proto_layout import layout

__all__ = [
    "Drift",
    "GeneratedFile",
    "OutputError",
    "check_files",
    "descriptor_set_bytes",
    "generate",
    "output_names",
    "write_files",
]

logger = logging.getLogger(__name__)


class OutputError(NonRetriableException):
    """A generated file could not be written (or read back for a check)."""


@dataclass(frozen=True)
class GeneratedFile:
    path: Path
    content: bytes
    kind: str  # "proto" | "models" | "descriptor_set" | "arrow_schema" | "avro_schema"


@dataclass(frozen=True)
class Drift:
    """A file on disk that is not what the table implies; `diff` says how (unified diff)."""

    path: Path
    reason: str  # "missing" | "differs"
    diff: str = ""


def _unified_diff(path: Path, on_disk: bytes | None, wanted: bytes, kind: str) -> str:
    """What writing `wanted` over `on_disk` would change, as a unified diff (text files only)."""
    if kind in ("descriptor_set", "arrow_schema"):
        size = "missing" if on_disk is None else f"{len(on_disk)} bytes"
        return f"Binary file {path} differs ({size} on disk, {len(wanted)} bytes generated)\n"
    before = [] if on_disk is None else on_disk.decode("utf-8", "replace").splitlines(keepends=True)
    after = wanted.decode("utf-8").splitlines(keepends=True)
    lines = difflib.unified_diff(
        before,
        after,
        fromfile=f"{path} (on disk)" if on_disk is not None else "/dev/null",
        tofile=f"{path} (generated)",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def output_names(message_name: str) -> dict[str, str]:
    """File names per kind for a message name (``air_quality`` -> ``air_quality.proto``...)."""
    return {
        "proto": f"{message_name}.proto",
        "models": f"{_snake_case(message_name)}_model.py",
        "descriptor_set": f"{message_name}.desc",
        "arrow_schema": f"{message_name}.arrow_schema",
        "avro_schema": f"{message_name}.avsc",
    }


def descriptor_set_bytes(schema: TableSchema, message_name: str | None = None) -> bytes:
    """A ``FileDescriptorSet`` holding the .proto's file, serialized deterministically."""
    name = layout(schema, message_name).name
    file_set = descriptor_pb2.FileDescriptorSet()
    file_set.file.add().CopyFrom(file_descriptor_proto(schema, message_name, file_name=f"{name}.proto"))
    data: bytes = file_set.SerializeToString(deterministic=True)
    return data


def generate(
    schema: TableSchema,
    out_dir: str | os.PathLike[str] = ".",
    *,
    message_name: str | None = None,
    class_name: str | None = None,
    proto: bool = True,
    models: bool = True,
    descriptor_set: bool = False,
    arrow: bool = False,
    avro: bool = False,
) -> tuple[GeneratedFile, ...]:
    """Render the files `schema` implies, in memory; the same input gives the same bytes."""
    name = layout(schema, message_name).name  # validates the schema and the message name
    names = output_names(name)
    directory = Path(out_dir)
    files: list[GeneratedFile] = []
    if proto:
        text = proto_text(schema, message_name)
        files.append(GeneratedFile(directory / names["proto"], text.encode("utf-8"), "proto"))
    if models:
        source = model_source(schema, class_name, message_name)
        files.append(GeneratedFile(directory / names["models"], source.encode("utf-8"), "models"))
    if descriptor_set:
        data = descriptor_set_bytes(schema, message_name)
        files.append(GeneratedFile(directory / names["descriptor_set"], data, "descriptor_set"))
    if arrow:
        from zerobus.schema.arrow_types import arrow_schema_bytes

        files.append(
            GeneratedFile(directory / names["arrow_schema"], arrow_schema_bytes(schema), "arrow_schema")
        )
    if avro:
        text = avro_schema_text(schema, message_name)
        files.append(GeneratedFile(directory / names["avro_schema"], text.encode("utf-8"), "avro_schema"))
    return tuple(files)


def write_files(files: tuple[GeneratedFile, ...] | list[GeneratedFile]) -> None:
    """Write each file atomically (a temporary file renamed over the target), creating dirs."""
    for generated in files:
        path = generated.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # mkstemp makes owner-only files: keep the mode of the file replaced, else rw-r--r--.
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
            fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(generated.content)
                os.chmod(temp_name, mode)
                os.replace(temp_name, path)
            except BaseException:
                os.unlink(temp_name)
                raise
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror or error}", cause=error) from error
        logger.info("wrote %s", path)


def check_files(files: tuple[GeneratedFile, ...] | list[GeneratedFile]) -> list[Drift]:
    """Compare the files on disk with what the schema implies; writes nothing."""
    drift: list[Drift] = []
    for generated in files:
        try:
            on_disk = generated.path.read_bytes()
        except FileNotFoundError:
            drift.append(
                Drift(
                    generated.path,
                    "missing",
                    _unified_diff(generated.path, None, generated.content, generated.kind),
                )
            )
            continue
        except OSError as error:
            raise OutputError(
                f"cannot read {generated.path}: {error.strerror or error}", cause=error
            ) from error
        if on_disk != generated.content:
            diff = _unified_diff(generated.path, on_disk, generated.content, generated.kind)
            drift.append(Drift(generated.path, "differs", diff))
    return drift
