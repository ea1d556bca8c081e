"""Shared month helpers (istvhub.core.periods): the one YYYY-MM pattern and month arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from istvhub._errors import IstvhubError
from istvhub.compliance.deadlines import check_period as compliance_check
from istvhub.compliance.rules import ComplianceError
from istvhub.core.periods import (
    check_period,
    current_period,
    is_period,
    month_add,
    month_index,
    month_range,
    months_between,
    period_in_name,
)
from istvhub.equality.core import EqualityError

periods = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1990, 2100), st.integers(1, 12))


@given(periods, st.integers(-600, 600))
def test_month_add_round_trips_and_ranges_count(period, n):
    q = month_add(period, n)
    assert is_period(q)
    assert month_add(q, -n) == period
    assert month_index(q) - month_index(period) == n
    lo, hi = sorted((period, q))
    r = month_range(lo, hi)
    assert len(r) == months_between(lo, hi) == abs(n) + 1
    assert r[0] == lo and r[-1] == hi and r == sorted(r)


def test_year_boundaries_and_empty_range():
    assert month_add("2025-12", 1) == "2026-01"
    assert month_add("2026-01", -1) == "2025-12"
    assert month_range("2026-02", "2025-11") == []
    assert months_between("2024-11", "2025-01") == 3
    assert current_period(datetime(2026, 3, 31, 23, 59, tzinfo=UTC)) == "2026-03"


@pytest.mark.parametrize("bad", ["2025-13", "2025-00", "2025-1", "25-01", "2025-01-01", "", None])
def test_bad_periods_name_the_field_in_the_callers_error(bad):
    assert not is_period(bad)
    with pytest.raises(IstvhubError, match="field 'from': expected YYYY-MM"):
        check_period(bad, field_name="from")
    with pytest.raises(EqualityError):
        check_period(bad, field_name="from", error=EqualityError)
    with pytest.raises(ComplianceError):
        compliance_check(bad, field_name="from")


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("RJ122_2025-03", "2025-03"),
        ("rj122-202503", "2025-03"),
        ("kings_2024.11_extract", "2024-11"),
        ("extract_2025-13", None),
        ("RJ122_12025031", None),  # inside a longer number
        ("no month here", None),
    ],
)
def test_period_in_a_file_name(name, want):
    assert period_in_name(name) == want
