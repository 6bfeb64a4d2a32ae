"""Runs INSIDE a venv with a `zerobus.tools.generate_proto` (the official one, or ours): call its
helper functions as told on stdin (a JSON list of ``[function, args]``) and print one JSON list of
outcomes: ``{"result": ..., "after": args}`` or ``{"error": class name, "message": text}``.
`generate_proto_file`'s result is the text of the file it wrote (its third argument is a file name
inside a temporary directory)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from zerobus.tools import generate_proto


def call(name: str, args: list[Any], scratch: Path) -> dict[str, Any]:
    function = getattr(generate_proto, name)
    if name == "generate_proto_file":
        args = [*args[:2], str(scratch / args[2])]
    try:
        result = function(*args)
    except Exception as error:
        return {"error": type(error).__name__, "message": str(error)}
    if name == "generate_proto_file":
        result = Path(args[2]).read_text()
    return {"result": result, "after": args if name != "generate_proto_file" else None}


def main() -> None:
    calls = json.loads(sys.stdin.read())
    with tempfile.TemporaryDirectory() as scratch:
        outcomes = [call(name, args, Path(scratch)) for name, args in calls]
    json.dump(outcomes, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
