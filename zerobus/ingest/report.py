"""Internal: What a run did: rows read, landed and refused per file and in all, and why it stopped early."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from zerobus.errors import ZerobusException

__all__ = ["FileReport", "RunReport"]


@dataclass
class FileReport:
    """One input file: `sent` rows went into the stream, `refused` to the dead-letter file."""

    path: str
    format: str
    position_key: str  # "line" or "row": how the file's rows are numbered
    sent: int = 0
    refused: int = 0
    last_position: int = 0
    read_to_end: bool = False

    @property
    def rows(self) -> int:
        return self.sent + self.refused


@dataclass
class RunReport:
    """The whole run. `landed` counts acknowledged rows, known once the stream is closed."""

    table: str
    dead_letter: Path | None
    files: list[FileReport] = field(default_factory=list)
    landed: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    failure: ZerobusException | None = None

    @property
    def sent(self) -> int:
        return sum(f.sent for f in self.files)

    @property
    def refused(self) -> int:
        return sum(f.refused for f in self.files)

    @property
    def rows_per_s(self) -> float:
        return self.landed / self.seconds if self.seconds > 0 else 0.0
