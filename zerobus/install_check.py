"""Internal: Refuse to run beside the official SDK's distribution.

``databricks-zerobus-ingest-sdk`` and ``zerobus-toolkit`` both install a top-level package named
``zerobus``. Installed into one environment they overwrite each other's files without a word (pip
does not track two distributions owning one path, and ``pip check`` stays clean), leaving a mix of
both that fails in ways nobody could diagnose. Whichever was installed last owns
``zerobus/__init__.py``: when it is ours, importing stops here with the fix.
"""

from __future__ import annotations

import importlib.metadata

__all__ = ["OFFICIAL_DISTRIBUTION", "OUR_DISTRIBUTION", "check_no_official_sdk"]

OUR_DISTRIBUTION = "zerobus-toolkit"
OFFICIAL_DISTRIBUTION = "databricks-zerobus-ingest-sdk"


def check_no_official_sdk() -> None:
    """Raise `ImportError` if the official SDK's distribution is installed where we are."""
    try:
        official = importlib.metadata.distribution(OFFICIAL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return
    where = official.locate_file("")
    raise ImportError(
        f"{OUR_DISTRIBUTION} and {OFFICIAL_DISTRIBUTION} {official.version} are installed in the same "
        f"environment ({where}). Both install a top-level 'zerobus' package and silently overwrite "
        "each other's files, so neither works reliably. Use one virtual environment per SDK: "
        f"'pip uninstall {OFFICIAL_DISTRIBUTION} {OUR_DISTRIBUTION}' here, then "
        f"'python -m venv .venv-toolkit && .venv-toolkit/bin/pip install {OUR_DISTRIBUTION}' and "
        f"'python -m venv .venv-official && .venv-official/bin/pip install {OFFICIAL_DISTRIBUTION}'."
    )
