"""Internal: The one Jinja2 environment every emitter renders through.

Strict (`StrictUndefined`: a misspelt name in a template is an error, never an empty string),
`trim_blocks` and `lstrip_blocks` so block tags leave no stray whitespace, and templates loaded
through the package (`importlib.resources` on ``zerobus.codegen.templates``), never through a
path relative to the repository, so a wheel or zip install renders the same bytes.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

__all__ = ["TEMPLATE_PACKAGE", "environment", "render"]

TEMPLATE_PACKAGE = "zerobus.codegen.templates"


def _load(name: str) -> tuple[str, str, Any]:
    resource = resources.files(TEMPLATE_PACKAGE).joinpath(name)
    try:
        source = resource.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        raise jinja2.TemplateNotFound(name) from None
    return source, f"{TEMPLATE_PACKAGE}/{name}", lambda: True


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(template: str, **context: Any) -> str:
    """Render a template of ``templates/`` with view objects (templates hold no logic)."""
    return environment().get_template(template).render(**context)
