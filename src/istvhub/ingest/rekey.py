"""``istvhub rekey-records``: release-0.1 record ids become keyed hashes, in place.

Release 0.1 stored ``sha256(department, row key)[:24]``: when the row key was an NHS number, the
id gave it back in under a second by brute force (issue 14, point 3). Ids are now the HMAC of
that legacy id under the installation secret (:func:`istvhub.records.keyed_record_id`), so a
legacy id converts exactly and re-uploads of old months keep their ids. Legacy ids are told apart
by their length (24 characters; keyed ids have 32). One transaction; audited.
"""

from __future__ import annotations

import re
from pathlib import Path

from istvhub.records import keyed_record_id
from istvhub.store import Store
from istvhub.store.repos.records import rekey

_LEGACY = re.compile(r"^[0-9a-f]{24}$")


def rekey_records(store: Store, *, home: Path | None = None, dry_run: bool = False) -> int:
    """Rekey every legacy record id; returns how many rows changed (or would)."""
    return rekey(
        store,
        lambda rid: bool(_LEGACY.match(rid)),
        lambda rid: keyed_record_id(rid, home=home),
        length=24,
        dry_run=dry_run,
    )
