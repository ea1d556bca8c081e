"""Moved to :mod:`istvhub.disclosure` (one disclosure control for every output); kept so that
older imports keep working."""

from istvhub.disclosure.rules import (  # noqa: F401
    RULES_FILE,
    UNSUPPRESSED,
    DisclosureRule,
    UnknownDisclosureRule,
    format_count,
    get_rule,
    load_rules,
    protect,
    protect_total,
)
