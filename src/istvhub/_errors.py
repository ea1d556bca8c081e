"""All istvhub exceptions in one place (the osmnx pattern), so callers and the CLI/API can map them
to exit codes and HTTP statuses without importing stage internals.

Messages never carry record-level text or personal data: they name the file, row and field.
"""

from __future__ import annotations


class IstvhubError(Exception):
    """Base class: anything the CLI reports to the user as an error (exit 2) rather than a crash."""


class FileRejected(IstvhubError):
    """A whole upload is refused and nothing is stored.

    ``file`` is the source file name (never its contents), ``field`` the offending column or
    form field when one is to blame, ``row`` the 1-based data row when one is to blame.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        field: str | None = None,
        row: int | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.field = field
        self.row = row
        where = ", ".join(
            p
            for p in (
                f"file {file!r}" if file else "",
                f"row {row}" if row is not None else "",
                f"field {field!r}" if field else "",
            )
            if p
        )
        super().__init__(f"{where}: {reason}" if where else reason)


class ConfirmationRequired(FileRejected):
    """The upload would replace a month in a way that needs an explicit confirmation (most rows
    dropped, layout changed): ``--confirm-replace`` / form field ``confirm_replace`` (API 409)."""


class NeedsMapping(FileRejected):
    """The file is held, not stored: a key ISTV item has no confident column (issue 17).
    ``missing`` names the items, ``proposal`` is the mapping TOML to accept or edit. The CLI
    exits 3; the API answers 422 with ``status: needs_mapping``."""

    exit_code = 3

    def __init__(self, reason: str, *, file: str | None, missing: list[str], proposal: str) -> None:
        super().__init__(reason, file=file, field=", ".join(missing))
        self.missing = missing
        self.proposal = proposal


class PIIRejected(FileRejected):
    """The file carries identifying columns (NHS number, name, date of birth, address, postcode)."""


class UnknownDepartment(FileRejected):
    """The department code is not in the registry."""


class GazetteerNotBuilt(IstvhubError):
    """The gazetteer has not been built yet under the data directory."""


class SourcesNotFound(IstvhubError):
    """The open-data sources directory is missing or lacks a required file."""


class StoreError(IstvhubError):
    """The database could not be reached or is in an unexpected state."""


class UserError(IstvhubError):
    """A user-management request is invalid (unknown role, missing scope, duplicate name)."""


class DisclosureError(IstvhubError):
    """A request for published counts cannot be met: an unknown disclosure rule, or a query
    finer than the disclosure rules allow (names the option, never data)."""


class HotblocksError(IstvhubError):
    """A hot-blocks request cannot be met: a bad filter option, an unknown disclosure rule or an
    output that cannot be written (names the option or file, never data)."""
