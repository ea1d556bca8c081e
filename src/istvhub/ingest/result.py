"""What one ingest reports: status, counts, row-level issues with the line each row starts on
(CLI, API and the report files all print from this)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from istvhub.ingest.adapted import Issue


@dataclass
class IngestResult:
    file: str
    status: str  # stored | unchanged | rejected | needs_mapping
    adapter: str | None = None
    department: str | None = None
    period: str | None = None
    version: int | None = None
    submission_id: int | None = None
    superseded_version: int | None = None
    rows_total: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    pii_scrubbed: int = 0
    geocoded: int = 0
    message: str = ""
    file_sha256: str | None = None
    replaces: str | None = None  # what this version supersedes, in words
    located: int = 0  # geocoded texts placed on the map
    #: per ISTV item: the column it came from and the value mappings applied (issue 17.3)
    items: list[dict[str, Any]] = field(default_factory=list)
    missing_items: list[str] = field(default_factory=list)  # needs_mapping: what to map
    proposed_mapping: str | None = None  # needs_mapping: the TOML to accept or edit
    mapping_saved: str | None = None  # the accepted mapping stored for the department
    header_line: int = 1  # the header's line (CSV) or sheet row (XLSX) in the file
    issues: list[Issue] = field(default_factory=list)
    #: data row -> the line it starts on, for the rows with issues (quoted cells may hold line
    #: breaks and blank lines are skipped, so row N is not always line header_line + N)
    row_lines: dict[int, int] = field(default_factory=dict, repr=False)

    def as_dict(self, with_issues: bool = False) -> dict[str, Any]:
        d = asdict(self)
        d.pop("row_lines")
        d["warning_counts"] = self.warning_counts()
        if with_issues:
            d["issues"] = [{**asdict(i), "line": self.line_of(i.row)} for i in self.issues]
        else:
            d.pop("issues")
        return d

    def line_of(self, row: int) -> int | None:
        """The line in the uploaded file of 1-based data row ``row`` (None: not a row)."""
        if row <= 0:
            return None
        return self.row_lines.get(row, self.header_line + row)

    def number_lines(self, lines: Any, header_line: int) -> None:
        """Fill :attr:`row_lines` for the rows named by issues (``lines`` from the reader)."""
        from istvhub.ingest.readers import physical_line

        self.header_line = header_line
        self.row_lines = {
            i.row: physical_line(lines, header_line, i.row) for i in self.issues if i.row > 0
        }

    def report_rows(self) -> list[dict[str, Any]]:
        """Row-level report (file,row,field,reason): never a cell value."""
        if self.status in ("rejected", "needs_mapping"):
            return [{"file": self.file, "row": "", "field": "", "reason": self.message}]
        return [
            {
                "file": self.file,
                "row": i.row,
                "field": i.field,
                "reason": ("" if i.quarantined else "warning: ") + self._where(i.row) + i.reason,
            }
            for i in self.issues
        ]

    def _where(self, row: int) -> str:
        if row <= 0:
            return ""
        return f"Row {row} (line {self.line_of(row)} in your file): "

    def warning_counts(self) -> dict[str, int]:
        """Each kind of row-level warning (every coercion is one) and how many rows it hit."""
        out: dict[str, int] = {}
        for i in self.issues:
            if not i.quarantined and i.row > 0:
                key = f"{i.field}: {i.reason}"
                out[key] = out.get(key, 0) + 1
        return out
