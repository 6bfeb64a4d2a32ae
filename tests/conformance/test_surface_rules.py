"""The rules of `surface.compare`, on small known signatures (no official SDK needed)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from tests.conformance import surface


def _official(*params: tuple[str, str, bool]) -> list[dict[str, Any]]:
    return [{"name": name, "kind": kind, "default": default} for name, kind, default in params]


def _problems(official: list[dict[str, Any]], ours: Any) -> list[tuple[str, str]]:
    return surface._param_problems(official, inspect.signature(ours))


POK, KW = "POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY"


def test_same_names_positions_and_defaults_conform() -> None:
    def ours(payload: Any, timeout_sec: float | None = None, *, extra: int = 0) -> None: ...

    assert _problems(_official(("payload", POK, False)), ours) == []


def test_a_renamed_or_missing_parameter_is_named() -> None:
    def renamed(record: Any) -> None: ...

    def required_extra(payload: Any, channel: Any) -> None: ...

    def keyword_only(*, payload: Any) -> None: ...

    official = _official(("payload", POK, False))
    assert [p for p, _ in _problems(official, renamed)] == ["payload"]
    assert _problems(official, required_extra) == [("channel", "extra required argument 'channel'")]
    assert [p for p, _ in _problems(official, keyword_only)] == ["payload"]
    assert _problems(_official(("auth", KW, True)), lambda client_id=None: None) == [
        ("auth", "no keyword argument 'auth'")
    ]


def test_an_official_default_must_stay_a_default() -> None:
    def ours(options: Any) -> None: ...

    assert [r for _, r in _problems(_official(("options", POK, True)), ours)] == [
        "'options' is required, official 'options' has a default"
    ]


def test_gaps_cover_items_below_them_and_report_when_closed(tmp_path: Path) -> None:
    listed = tmp_path / "gaps.txt"
    listed.write_text(
        "# comment\n*:ZerobusArrowStream: later\nzerobus.sdk.shared.avro: later\n"
        "*:ZerobusSdk.create_stream(auth): later\n*:Gone: closed already\n"
    )
    gaps = surface.parse_gaps(listed)
    problems = [
        surface.Problem("zerobus:ZerobusArrowStream.flush", "missing"),
        surface.Problem("zerobus.sdk.shared.avro:AvroEncoder", "its module is missing"),
        surface.Problem("zerobus.sdk:ZerobusSdk.create_stream", "no keyword argument 'auth'", "auth"),
        surface.Problem("zerobus.sdk:ZerobusSdk.create_stream", "renamed", "client_id"),
    ]
    assert surface.uncovered(problems, gaps) == [problems[3]]
    assert [g.key for g in surface.stale_gaps(problems, gaps)] == ["*:Gone"]
    report = surface.Report(10, problems)
    assert report.conforming == 7 and report.score().startswith("7 of 10")


def test_enum_numbers_bases_and_member_kinds_are_compared() -> None:
    official = {
        "modules": ["zerobus.sdk.shared", "zerobus.sdk.shared.no_such_module"],
        "entries": [
            {
                "module": "zerobus.sdk.shared",
                "name": "RecordType",
                "kind": "class",
                "bases": [],
                "members": [
                    {"member": "JSON", "kind": "attribute", "value": 2},
                    {"member": "PROTO", "kind": "attribute", "value": 9},
                ],
            },
            {
                "module": "zerobus.sdk.shared",
                "name": "NonRetriableException",
                "kind": "class",
                "exception": True,
                "bases": ["ZerobusException"],
                "members": [],
            },
            {
                "module": "zerobus.sdk.shared",
                "name": "HeadersProvider",
                "kind": "class",
                "bases": [],
                "members": [{"member": "get_headers", "kind": "property"}],
            },
        ],
    }
    report = surface.compare(official)
    assert [(p.item, p.reason) for p in report.problems] == [
        (
            "zerobus.sdk.shared.no_such_module",
            "module missing: No module named 'zerobus.sdk.shared.no_such_module'",
        ),
        ("zerobus.sdk.shared:RecordType.PROTO", "is 1, official is 9"),
        ("zerobus.sdk.shared:HeadersProvider.get_headers", "is a method, official is a property"),
    ]
    assert report.items == 8 and report.conforming == 5
