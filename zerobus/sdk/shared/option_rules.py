"""Internal: What every options class shares: unknown names are refused with a useful error.

Options objects stay mutable, as the official SDK's are (test suites written for it set fields
after construction), so each class checks every assignment in its ``__setattr__`` and wraps its
dataclass constructor with `refuse_unknown_keywords`: a misspelt option fails where it was
written, naming the closest valid option, instead of raising Python's bare TypeError.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, TypeVar

from zerobus.errors import UnknownOptionError

__all__ = ["option_names", "refuse_unknown_keywords"]

OptionsClass = TypeVar("OptionsClass", bound=type)


def option_names(cls: type) -> frozenset[str]:
    """The option names of an options class: its constructor's keyword parameters."""
    parameters = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    return frozenset(
        name for name, parameter in parameters.items() if parameter.kind is parameter.KEYWORD_ONLY
    )


def refuse_unknown_keywords(cls: OptionsClass) -> OptionsClass:
    """Class decorator (above ``@dataclass``, or on a class with a keyword-only constructor): an
    unknown constructor keyword raises `UnknownOptionError`."""
    generated = cls.__init__  # type: ignore[misc]  # the class's own, which this wraps
    names = option_names(cls)

    @functools.wraps(generated)
    def checked_init(self: Any, *args: Any, **options: Any) -> None:
        for name in options:
            if name not in names:
                raise UnknownOptionError(cls.__name__, name, names)
        generated(self, *args, **options)

    cls.__init__ = checked_init  # type: ignore[misc]
    return cls
