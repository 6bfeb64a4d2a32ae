"""Internal: How error messages and log lines name a stream and say why it failed, each thing once.

An error travels through several layers (the gRPC translation, the engine's failure, an ingest
refused afterwards, the exit hook); if each put its own "stream failed" in front of the text it
got, users would read "the stream failed: stream failed: stream failed with NOT_FOUND: ...".
Every layer builds its text here instead, and a reason that already says the stream failed
keeps only what it adds.
"""

from __future__ import annotations

import re

__all__ = ["failure_text", "stream_title"]

# A reason's own opening that says again what the caller's subject already says.
_ALREADY_SAID = re.compile(r"^(?:the )?stream(?: is)? failed(?: with)?:?\s*", re.IGNORECASE)


def stream_title(stream_id: str | None, table: str) -> str:
    """'stream <id> for table <t>', or 'new stream for table <t>' before the server gave an id."""
    if not stream_id:
        return f"new stream for table {table}"
    return f"stream {stream_id} for table {table}"


def failure_text(subject: str, reason: BaseException | str) -> str:
    """'<subject> failed: <reason>', the reason stripped of a leading "stream failed (with)"."""
    text = _ALREADY_SAID.sub("", str(reason), count=1)
    return f"{subject} failed: {text}" if text else f"{subject} failed"
