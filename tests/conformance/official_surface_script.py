"""Runs INSIDE the official SDK's venv (python -I): print its public surface as one JSON object.

Walks every public module of the installed official `zerobus` package (any module path without a
leading underscore), and in each the public names (`__all__`, else the names it defines or takes
from the official package). Pure-Python objects are described with `inspect`; objects of the
native core (`zerobus._zerobus_core`) from its `.pyi` stub, read with `ast`: classes, methods,
properties, attributes, parameter names and kinds, whether a parameter has a default, and
whether a method is a coroutine. Where the native object itself reports only ``(**kwargs)`` as
its signature, its stub's parameters are keyword-only in truth, and are recorded so.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import json
import sys
from pathlib import Path
from typing import Any

import zerobus
import zerobus._zerobus_core as core

PACKAGE_DIR = Path(zerobus.__file__).parent
STUB = PACKAGE_DIR / "_zerobus_core.pyi"
POSITIONAL = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")


def public_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if any(part.startswith("_") for part in parts):
            continue
        names.append(".".join(parts))
    return names


def native_paths() -> dict[int, tuple[str, ...]]:
    """id of each native class -> its path in the stub (`("sync", "RecordAcknowledgment")`)."""
    found: dict[int, tuple[str, ...]] = {}

    def walk(namespace: Any, prefix: tuple[str, ...]) -> None:
        for name, value in vars(namespace).items():
            if name.startswith("_"):
                continue
            if inspect.ismodule(value):
                walk(value, (*prefix, name))
            elif isinstance(value, type):
                found[id(value)] = (*prefix, name)

    walk(core, ())
    return found


def stub_classes() -> dict[tuple[str, ...], ast.ClassDef]:
    classes: dict[tuple[str, ...], ast.ClassDef] = {}

    def walk(body: list[ast.stmt], prefix: tuple[str, ...]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                classes[(*prefix, node.name)] = node
                walk(node.body, (*prefix, node.name))

    walk(ast.parse(STUB.read_text()).body, ())
    return classes


def stub_params(function: ast.FunctionDef | ast.AsyncFunctionDef, keyword_only: bool) -> list[dict[str, Any]]:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    with_default = len(positional) - len(args.defaults)
    params = []
    for index, arg in enumerate(positional):
        if index == 0 and arg.arg in ("self", "cls"):
            continue
        kind = "POSITIONAL_ONLY" if index < len(args.posonlyargs) else "POSITIONAL_OR_KEYWORD"
        if keyword_only:
            kind = "KEYWORD_ONLY"
        params.append({"name": arg.arg, "kind": kind, "default": index >= with_default})
    if args.vararg is not None:
        params.append({"name": args.vararg.arg, "kind": "VAR_POSITIONAL", "default": True})
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append({"name": arg.arg, "kind": "KEYWORD_ONLY", "default": default is not None})
    if args.kwarg is not None:
        params.append({"name": args.kwarg.arg, "kind": "VAR_KEYWORD", "default": True})
    return params


def takes_only_kwargs(native: type) -> bool:
    try:
        signature = inspect.signature(native)
    except (TypeError, ValueError):
        return False
    kinds = [p.kind for p in signature.parameters.values()]
    return kinds == [inspect.Parameter.VAR_KEYWORD]


def describe_native(native: type, node: ast.ClassDef) -> list[dict[str, Any]]:
    members = []
    keyword_only = takes_only_kwargs(native)
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if item.name.startswith("_") and item.name != "__init__":
                continue
            decorators = {getattr(d, "id", None) for d in item.decorator_list}
            if "property" in decorators:
                members.append({"member": item.name, "kind": "property"})
                continue
            members.append(
                {
                    "member": item.name,
                    "kind": "method",
                    "async": isinstance(item, ast.AsyncFunctionDef),
                    "params": stub_params(item, keyword_only and item.name == "__init__"),
                }
            )
        elif (
            isinstance(item, ast.AnnAssign)
            and isinstance(item.target, ast.Name)
            and not item.target.id.startswith("_")
        ):
            member: dict[str, Any] = {"member": item.target.id, "kind": "attribute"}
            constant = getattr(native, item.target.id, None)
            if isinstance(constant, native):  # an enum-like member: its number is part of the API
                with contextlib.suppress(TypeError):
                    member["value"] = int(constant)
            members.append(member)
    return members


def signature_params(function: Any, drop_first: bool) -> list[dict[str, Any]]:
    parameters = list(inspect.signature(function).parameters.values())
    if drop_first and parameters:
        parameters = parameters[1:]
    return [
        {
            "name": p.name,
            "kind": p.kind.name,
            "default": p.default is not inspect.Parameter.empty
            or p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD),
        }
        for p in parameters
    ]


def describe_python_class(cls: type) -> list[dict[str, Any]]:
    members = []
    fields = getattr(cls, "__dataclass_fields__", {})
    for name, value in vars(cls).items():
        if name.startswith("_") and name != "__init__":
            continue
        if name in fields:
            continue
        if isinstance(value, property):
            members.append({"member": name, "kind": "property"})
        elif isinstance(value, staticmethod):
            members.append(
                {
                    "member": name,
                    "kind": "method",
                    "async": False,
                    "params": signature_params(value.__func__, False),
                }
            )
        elif isinstance(value, classmethod) or inspect.isfunction(value):
            function = value.__func__ if isinstance(value, classmethod) else value
            members.append(
                {
                    "member": name,
                    "kind": "method",
                    "async": inspect.iscoroutinefunction(function),
                    "params": signature_params(function, True),
                }
            )
        else:
            members.append({"member": name, "kind": "attribute"})
    for name, field in fields.items():
        if not name.startswith("_") and field.init:
            members.append({"member": name, "kind": "attribute"})
    return members


def from_official_package(value: Any, natives: dict[int, tuple[str, ...]]) -> bool:
    module = getattr(value, "__module__", None) or ""
    return id(value) in natives or module == "zerobus" or module.startswith("zerobus.")


def public_names(module: Any, natives: dict[int, tuple[str, ...]]) -> list[str]:
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and from_official_package(value, natives)
    ]


def describe(
    module_name: str, natives: dict[int, tuple[str, ...]], stubs: dict[Any, ast.ClassDef]
) -> list[dict[str, Any]]:
    module = importlib.import_module(module_name)
    entries = []
    for name in public_names(module, natives):
        value = getattr(module, name)
        entry: dict[str, Any] = {"module": module_name, "name": name}
        if isinstance(value, type):
            entry["kind"] = "class"
            entry["exception"] = issubclass(value, BaseException)
            # Its bases among the module's public classes (NonRetriableException -> ZerobusException).
            entry["bases"] = [
                base.__name__
                for base in value.__mro__[1:]
                if getattr(module, base.__name__, None) is base and base.__name__ != name
            ]
            path = natives.get(id(value))
            if path is not None:
                entry["members"] = describe_native(value, stubs[path])
            else:
                entry["members"] = describe_python_class(value)
        elif inspect.isfunction(value):
            entry["kind"] = "function"
            entry["async"] = inspect.iscoroutinefunction(value)
            entry["params"] = signature_params(value, False)
        else:
            entry["kind"] = "attribute"
        entries.append(entry)
    return entries


def main() -> None:
    natives, stubs = native_paths(), stub_classes()
    modules = public_modules()
    entries = [entry for name in modules for entry in describe(name, natives, stubs)]
    json.dump({"modules": modules, "entries": entries}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
