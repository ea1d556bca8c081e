"""Renderers of a :class:`FeedbackSheet`: CSV (summary lines then the texts) and a
self-contained HTML page. Free text is escaped in HTML and neutralised in CSV (a cell starting
with ``= + - @`` would run as a formula in a spreadsheet)."""

from __future__ import annotations

import csv
import io

from istvhub.core.templates import render_template
from istvhub.feedback.core import FeedbackSheet

FORMATS = ("csv", "html")
SUMMARY_LABELS = {
    "records": "Assault attendances received",
    "located": "Location found",
    "located_precise": "  found precisely (street, junction, venue, postcode)",
    "located_vague": "  found only as an area, borough or partial postcode",
    "home": "At home (never mapped, by design)",
    "no_place_given": "No place given (u/k, n/k, blank)",
    "not_found": "Place not found",
    "ambiguous": "Ambiguous (name in several places)",
    "outside_london": "Outside London",
    "not_geocoded": "Not geocoded yet",
    "share_located": "Share located",
    "share_located_excluding_home": "Share located, excluding homes",
}


def _cell(v: object) -> str:
    from istvhub.exportsafety import neutralise  # the shared rule (also a bare CR inside)

    safe: str = neutralise("" if v is None else str(v))  # text in, text out
    return safe


def _fmt(key: str, v: float | None) -> str:
    if v is None:
        return "n/a"
    if key.startswith("share"):
        return f"{float(v):.0%}"
    return str(v)


def to_csv(sheet: FeedbackSheet) -> str:
    """One table: ``section, item, count, status, problem, guidance`` (section = summary|text)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")  # free-text cells pass the neutraliser (_cell)
    w.writerow(
        ["department", "period", "section", "item", "value", "status", "problem", "guidance"]
    )
    for k, v in sheet.summary.items():
        w.writerow(
            [sheet.department, sheet.period, "summary", k, "" if v is None else v, "", "", ""]
        )
    for r in sheet.texts.itertuples(index=False):
        w.writerow(
            [
                sheet.department,
                sheet.period,
                "text",
                _cell(r.text),
                r.count,
                r.status,
                r.problem,
                r.guidance,
            ]
        )
    return buf.getvalue()


CSS = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:70em}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;padding:.25em .5em;
vertical-align:top}td.n{text-align:right}.note{color:#555}"""


def to_html(sheet: FeedbackSheet) -> str:
    """The sheet as one self-contained page (``data/templates/feedback.html``, escaped)."""
    name = (
        f"{sheet.department_name} ({sheet.department})"
        if sheet.department_name
        else sheet.department
    )
    return render_template(
        "feedback.html",
        css=CSS,
        sheet=sheet,
        name=name,
        summary=[(SUMMARY_LABELS.get(k, k), _fmt(k, v)) for k, v in sheet.summary.items()],
        texts=list(sheet.texts.itertuples(index=False)),
    )


def render(sheet: FeedbackSheet, fmt: str) -> str:
    if fmt == "csv":
        return to_csv(sheet)
    if fmt == "html":
        return to_html(sheet)
    from istvhub.feedback.core import FeedbackError

    raise FeedbackError(f"option --format: choose one of {', '.join(FORMATS)}")
