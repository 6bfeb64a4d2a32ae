"""Helpers shared by the codegen tests: the schema corpus, golden files, protoc, the official tool."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import ModuleType
from typing import Any

from google.protobuf import descriptor_pb2

from tests.support.official_sdk import require_official_sdk_python, run_official
from zerobus.codegen import (
    ArrayType,
    DataType,
    MapType,
    StructField,
    StructType,
    TableSchema,
    schema_from_ddl,
    schema_from_file,
)

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
GOLDEN = HERE / "golden"
REPO = HERE.parents[1]
UPDATE_GOLDEN = os.environ.get("ZEROBUS_UPDATE_GOLDEN") == "1"


def corpus_names() -> list[str]:
    return sorted(p.stem for p in CORPUS.iterdir() if p.suffix in (".ddl", ".json"))


def load_case(name: str) -> TableSchema:
    """A corpus table: ``<name>.ddl`` (columns; table main.corpus.<name>) or ``<name>.json`` (UC answer)."""
    ddl = CORPUS / f"{name}.ddl"
    if ddl.exists():
        return schema_from_ddl(ddl.read_text(), f"main.corpus.{name}")
    return schema_from_file(CORPUS / f"{name}.json")


def check_golden(path: Path, actual: str | bytes) -> None:
    """Compare with a golden file; ZEROBUS_UPDATE_GOLDEN=1 rewrites it instead."""
    data = actual.encode() if isinstance(actual, str) else actual
    if UPDATE_GOLDEN:
        path.write_bytes(data)
        return
    assert path.exists(), f"missing golden file {path}; run with ZEROBUS_UPDATE_GOLDEN=1 to create it"
    expected = path.read_bytes()
    assert data == expected, f"{path.name} differs from the golden file (ZEROBUS_UPDATE_GOLDEN=1 to accept)"


def protoc_file(proto_text: str, file_name: str, workdir: Path) -> descriptor_pb2.FileDescriptorProto:
    """Compile .proto text with protoc (grpc_tools, a test-only dependency) and return its file."""
    from grpc_tools import protoc

    source = workdir / file_name
    source.write_text(proto_text)
    out = workdir / (file_name + ".pb")
    code = protoc.main(["protoc", f"-I{workdir}", f"--descriptor_set_out={out}", str(source)])
    assert code == 0, f"protoc rejected {file_name}:\n{proto_text}"
    file_set = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    return file_set.file[0]


def official_generate(requests: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Run the official tool's generate_proto_file over [{message, table}] in its own venv.

    Each answer is {"ok": proto text} or {"error": message}. Only its behaviour is used, to
    compare outputs; nothing of it is imported here.
    """
    script = """
import json, os, sys, tempfile
from zerobus.tools.generate_proto import extract_columns, generate_proto_file
out = []
for item in json.load(sys.stdin):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out.proto")
        try:
            generate_proto_file(item["message"], extract_columns(item["table"]), path)
            out.append({"ok": open(path).read()})
        except Exception as error:
            out.append({"error": f"{type(error).__name__}: {error}"})
json.dump(out, sys.stdout)
"""
    result = run_official(require_official_sdk_python(), "-c", script, stdin=json.dumps(requests), timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    answers: list[dict[str, str]] = json.loads(result.stdout)
    return answers


def import_file(path: Path, module_name: str) -> ModuleType:
    """Import a generated module from a file, as a user's code would."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


@dataclass
class ScriptedCatalog:
    url: str
    # (status, body) for the next table requests, in order; the last one repeats.
    table_answers: list[tuple[int, Any]] = field(default_factory=lambda: [(200, {"columns": []})])
    token_answer: tuple[int, Any] = (200, {"access_token": "scripted-token", "token_type": "Bearer"})
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


def scripted_catalog_handler(catalog: ScriptedCatalog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            catalog.requests.append(("POST", self.path, {"body": body, **dict(self.headers)}))
            self._answer(*catalog.token_answer)

        def do_GET(self) -> None:
            catalog.requests.append(("GET", self.path, dict(self.headers)))
            answers = catalog.table_answers
            self._answer(*(answers.pop(0) if len(answers) > 1 else answers[0]))

    return Handler


def without_empty_containers(schema: TableSchema, row: dict[str, Any]) -> dict[str, Any]:
    """Proto cannot tell an empty ARRAY or MAP from NULL: drop empty ones before comparing."""
    return _normalise(schema.as_struct().fields, row)


def _normalise(fields: tuple[StructField, ...], row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for struct_field in fields:
        if struct_field.name not in row:
            continue
        value = _normalise_value(struct_field.type, row[struct_field.name])
        if isinstance(struct_field.type, (ArrayType, MapType)) and not value:
            continue
        out[struct_field.name] = value
    return out


def _normalise_value(data_type: DataType, value: Any) -> Any:
    if isinstance(data_type, StructType):
        return _normalise(data_type.fields, value)
    if isinstance(data_type, ArrayType):
        return [_normalise_value(data_type.element, item) for item in value]
    if isinstance(data_type, MapType):
        return {key: _normalise_value(data_type.value, item) for key, item in value.items()}
    return value
