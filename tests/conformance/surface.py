"""Compare the official SDK's public surface (as `official_surface_script.py` prints it) with ours.

Every module, public name and class member of the official package is one *item*, identified as
``module``, ``module:Name`` or ``module:Name.member``. An item conforms when ours has it, of the
same kind, and (for callables) takes every call the official one takes: the same positional
parameters by name and position, the official keyword-only ones as keywords, defaults where the
official has defaults, no extra required parameters, and `async` exactly where the official is.

Known gaps are keyed like items; ``*`` stands for any module (``*:ZerobusArrowStream``), a key
covers the items below it (a module's names, a class's members), and a parameter in parentheses
narrows a key to problems with that parameter (``*:ZerobusSdk.create_stream(auth)``).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Gap", "Problem", "Report", "compare", "parse_gaps", "stale_gaps", "uncovered"]

POSITIONAL = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")
P = inspect.Parameter

# Scores measured in this pytest run, for the terminal summary (conftest.py).
SCORES: list[str] = []

# Classes that cannot be built with no arguments, for checking instance attributes.
SAMPLES: dict[str, Callable[[type], Any]] = {"TableProperties": lambda cls: cls("main.default.sample")}


@dataclass(frozen=True)
class Problem:
    item: str
    reason: str
    param: str = ""

    @property
    def key(self) -> str:
        return f"{self.item}({self.param})" if self.param else self.item


@dataclass(frozen=True)
class Gap:
    key: str
    reason: str
    line: int

    def covers(self, problem: Problem) -> bool:
        module, _, rest = self.key.partition(":")
        item_module, _, item_rest = problem.key.partition(":")
        if module not in ("*", item_module):
            return False
        if not rest:
            return True
        return item_rest == rest or item_rest.startswith((rest + ".", rest + "("))


@dataclass
class Report:
    items: int
    problems: list[Problem]

    @property
    def conforming(self) -> int:
        return self.items - len({p.item for p in self.problems})

    def score(self) -> str:
        percent = 100.0 * self.conforming / self.items if self.items else 100.0
        return f"{self.conforming} of {self.items} official 1.10 public names conform ({percent:.1f}%)"


def parse_gaps(path: Path) -> list[Gap]:
    """One gap a line: ``key: reason``; blank lines and ``#`` comments are skipped."""
    gaps = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, sep, reason = text.partition(": ")
        if not sep or not reason.strip():
            raise ValueError(f"{path.name}:{number}: expected 'key: reason', got {text!r}")
        gaps.append(Gap(key.strip(), reason.strip(), number))
    return gaps


def uncovered(problems: Iterable[Problem], gaps: list[Gap]) -> list[Problem]:
    return [p for p in problems if not any(g.covers(p) for g in gaps)]


def stale_gaps(problems: Iterable[Problem], gaps: list[Gap]) -> list[Gap]:
    problems = list(problems)
    return [g for g in gaps if not any(g.covers(p) for p in problems)]


# --- comparing ------------------------------------------------------------------------------------


def _param_problems(official: list[dict[str, Any]], ours: inspect.Signature) -> list[tuple[str, str]]:
    """``(official parameter name, reason)`` for each way a call of the official one fails on ours."""
    ours_params = list(ours.parameters.values())
    by_name = {p.name: p for p in ours_params}
    positional = [p for p in ours_params if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    has_var_positional = any(p.kind is P.VAR_POSITIONAL for p in ours_params)
    has_var_keyword = any(p.kind is P.VAR_KEYWORD for p in ours_params)
    problems = []
    official_names = {p["name"] for p in official}
    official_positional = [p for p in official if p["kind"] in POSITIONAL]
    for index, param in enumerate(official_positional):
        name = param["name"]
        if index >= len(positional):
            if not has_var_positional:
                problems.append((name, f"takes no positional argument #{index + 1} ({name!r})"))
            continue
        mine = positional[index]
        if param["kind"] == "POSITIONAL_OR_KEYWORD" and (
            mine.name != name or mine.kind is not P.POSITIONAL_OR_KEYWORD
        ):
            problems.append(
                (
                    name,
                    f"positional argument #{index + 1} is {mine.name!r} ({mine.kind.name}), official {name!r}",
                )
            )
        if param["default"] and mine.default is P.empty:
            problems.append((name, f"{mine.name!r} is required, official {name!r} has a default"))
    for param in official:
        name, kind = param["name"], param["kind"]
        if kind == "KEYWORD_ONLY":
            mine = by_name.get(name)
            if mine is None or mine.kind not in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY):
                if not has_var_keyword:
                    problems.append((name, f"no keyword argument {name!r}"))
            elif param["default"] and mine.default is P.empty:
                problems.append((name, f"{name!r} is required, official has a default"))
        elif kind == "VAR_POSITIONAL" and not has_var_positional:
            problems.append((name, f"no *{name}"))
        elif kind == "VAR_KEYWORD" and not has_var_keyword:
            problems.append((name, f"no **{name}"))
    for index, mine in enumerate(ours_params):
        if mine.default is not P.empty or mine.kind in (P.VAR_POSITIONAL, P.VAR_KEYWORD):
            continue
        covered = mine.name in official_names or (
            mine.kind is not P.KEYWORD_ONLY and index < len(official_positional)
        )
        if not covered:
            problems.append((mine.name, f"extra required argument {mine.name!r}"))
    return problems


def _callable_problems(entry: dict[str, Any], function: Any, drop_first: bool) -> list[tuple[str, str]]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as error:
        return [("", f"has no inspectable signature: {error}")]
    if drop_first:
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    problems = _param_problems(entry.get("params", []), signature)
    is_async = inspect.iscoroutinefunction(function)
    if bool(entry.get("async")) != is_async:
        problems.append(("", "is async, official is not" if is_async else "is not async, official is"))
    return problems


def _sample(cls: type) -> Any:
    make = SAMPLES.get(cls.__name__)
    try:
        return make(cls) if make is not None else cls()
    except Exception:
        return None


def _has_attribute(cls: type, name: str) -> bool:
    for klass in cls.__mro__:
        if name in vars(klass) or name in getattr(klass, "__annotations__", {}):
            return True
    sample = _sample(cls)
    return sample is not None and hasattr(sample, name)


def _member_problems(cls: type, member: dict[str, Any]) -> list[tuple[str, str]]:
    name, kind = member["member"], member["kind"]
    if name == "__init__":
        return _callable_problems(member, cls, drop_first=False)
    if kind in ("property", "attribute"):
        if not _has_attribute(cls, name):
            return [("", "missing")]
        found = inspect.getattr_static(cls, name, None)
        if inspect.isfunction(found):
            return [("", f"is a method, official is a {kind}")]
        if "value" in member and int(getattr(cls, name)) != member["value"]:
            return [("", f"is {int(getattr(cls, name))}, official is {member['value']}")]
        return []
    try:
        found = inspect.getattr_static(cls, name)
    except AttributeError:
        return [("", "missing")]
    if isinstance(found, property):
        return [("", "is a property, official is a method")]
    if isinstance(found, staticmethod):
        return _callable_problems(member, found.__func__, drop_first=False)
    if isinstance(found, classmethod):
        return _callable_problems(member, found.__func__, drop_first=True)
    if not callable(found):
        return [("", "is not callable")]
    return _callable_problems(member, found, drop_first=True)


def _whole_entry(entry: dict[str, Any], reason: str) -> list[Problem]:
    """The entry and each of its members, all failing for one reason."""
    item = f"{entry['module']}:{entry['name']}"
    members = [f"{item}.{member['member']}" for member in entry.get("members", [])]
    return [Problem(each, reason) for each in (item, *members)]


def _entry_problems(module: Any, entry: dict[str, Any]) -> list[Problem]:
    item = f"{entry['module']}:{entry['name']}"
    if not hasattr(module, entry["name"]):
        return _whole_entry(entry, "missing")
    ours = getattr(module, entry["name"])
    kind = entry["kind"]
    if kind == "attribute":
        return []
    if kind == "function":
        if not callable(ours) or isinstance(ours, type):
            return [Problem(item, "is not a function")]
        return [
            Problem(item, reason, param)
            for param, reason in _callable_problems(entry, ours, drop_first=False)
        ]
    if not isinstance(ours, type):
        return _whole_entry(entry, "is not a class")
    if entry.get("exception") and not issubclass(ours, BaseException):
        return [Problem(item, "is not an exception class")]
    for base in entry.get("bases", []):
        ours_base = getattr(module, base, None)
        if not (isinstance(ours_base, type) and issubclass(ours, ours_base)):
            return [Problem(item, f"is not a subclass of {base}")]
    return [
        Problem(f"{item}.{member['member']}", reason, param)
        for member in entry.get("members", [])
        for param, reason in _member_problems(ours, member)
    ]


def compare(surface: dict[str, Any]) -> Report:
    """Every problem of our package against the official `surface`, and how many items there are."""
    problems: list[Problem] = []
    modules: dict[str, Any] = {}
    for name in surface["modules"]:
        try:
            modules[name] = importlib.import_module(name)
        except ImportError as error:
            problems.append(Problem(name, f"module missing: {error}"))
    items = len(surface["modules"])
    for entry in surface["entries"]:
        items += 1 + len(entry.get("members", []))
        module = modules.get(entry["module"])
        if module is None:
            problems.extend(_whole_entry(entry, "its module is missing"))
            continue
        problems.extend(_entry_problems(module, entry))
    return Report(items, problems)
