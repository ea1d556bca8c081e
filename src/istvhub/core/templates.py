"""The Jinja environment every HTML report renders through (feedback, equality, hot blocks,
compare): templates ship as package data under ``istvhub/data/templates/``, every value is
escaped unless a template marks it safe, and a missing value is an error, not a blank."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("istvhub", "data/templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_template(template: str, /, **context: Any) -> str:
    """``template`` (e.g. ``"feedback.html"``) rendered with ``context``."""
    return environment().get_template(template).render(**context)
