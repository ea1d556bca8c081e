"""One department-month's feedback sheet from a store: what the CLI and the API both call."""

from __future__ import annotations

from istvhub.core.periods import check_period
from istvhub.feedback.core import FeedbackError, FeedbackSheet, feedback_sheet
from istvhub.feedback.read import known_department, read_department_month
from istvhub.store.repos import Db


def build_sheet(db: Db, department: str, period: str, *, top: int = 25) -> FeedbackSheet:
    """Read one department-month and make its sheet (the CLI and the API call this)."""
    period = check_period(period, field_name="period", error=FeedbackError)
    department = department.strip().upper()
    if not known_department(db, department):
        raise FeedbackError("option --department: not a department in the registry")
    df, name = read_department_month(db, department, period)
    return feedback_sheet(df, department, period, department_name=name, top=top)
