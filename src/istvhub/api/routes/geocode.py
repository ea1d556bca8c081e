"""/geocode (analysts testing text, single or batch) and /corrections (analysts fixing a place).

Corrections: an ED analyst corrects for their own department only; London-wide corrections
(no department) are for admin. CSP analysts and MOPAC may test text but not correct.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, model_validator

from istvhub.api.deps import StoreDep, UserDep, audit, require
from istvhub.api.geocoding import geocoder_for, normalised_key
from istvhub.api.users import User
from istvhub.geocode.corrections import LAT_RANGE, LON_RANGE
from istvhub.geocode.corrections import add_correction as store_correction
from istvhub.records import GEOCODE_COLUMNS
from istvhub.store.repos import corrections as corrections_repo

router = APIRouter(tags=["geocode"])

Corrector = Annotated[User, Depends(require("ed_analyst", "admin"))]
MAX_BATCH = 1000


class GeocodeIn(BaseModel):
    text: str | None = Field(default=None, max_length=255)
    texts: list[str] | None = Field(default=None, max_length=MAX_BATCH)
    department: str | None = Field(default=None, max_length=12)

    @model_validator(mode="after")
    def one_of(self) -> GeocodeIn:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give exactly one of 'text' or 'texts'")
        if self.texts is not None and any(len(t) > 255 for t in self.texts):
            raise ValueError("field 'texts': each text at most 255 characters")
        return self


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k in GEOCODE_COLUMNS:
        v = d.get(k)
        if v is not None and hasattr(v, "item"):
            v = v.item()
        if isinstance(v, float) and math.isnan(v):
            v = None
        out[k] = v
    return out


@router.post("/geocode")
async def geocode(
    body: GeocodeIn, request: Request, user: UserDep, store: StoreDep
) -> dict[str, Any]:
    """Geocode one text or a batch, as ingest would (department = the ED, used as a prior)."""
    import pandas as pd

    dept = body.department.strip().upper() if body.department else None
    texts = [body.text] if body.text is not None else list(body.texts or [])
    home = request.app.state.settings.home

    def run() -> list[dict[str, Any]]:
        g = geocoder_for(home, store)
        res = g.geocode_frame(
            pd.DataFrame({"location_text": texts, "department": [dept] * len(texts)})
        )
        return [_clean(r) for r in res.to_dict("records")]

    results = await run_in_threadpool(run)
    if body.text is not None:
        return {"department": dept, "result": results[0]}
    return {"department": dept, "results": results}


class CorrectionIn(BaseModel):
    text: str = Field(min_length=1, max_length=255)
    lat: float
    lon: float
    department: str | None = Field(default=None, max_length=12)


def _may_correct(user: User, department: str | None) -> None:
    if department is None and user.role != "admin":
        raise HTTPException(403, "field 'department': London-wide corrections are for admin")
    if department is not None and user.role == "ed_analyst" and department not in user.departments:
        raise HTTPException(403, "field 'department': not one of your departments")


@router.post("/corrections", status_code=201)
async def add_correction(
    body: CorrectionIn, request: Request, user: Corrector, store: StoreDep
) -> dict[str, Any]:
    """Pin a text to a point; later geocoding (and `istvhub geocode --stored`) uses it."""
    dept = body.department.strip().upper() if body.department else None
    if user.role == "ed_analyst" and dept is None and len(user.departments) == 1:
        dept = user.departments[0]
    _may_correct(user, dept)

    if not (LAT_RANGE[0] <= body.lat <= LAT_RANGE[1] and LON_RANGE[0] <= body.lon <= LON_RANGE[1]):
        raise HTTPException(422, "field 'lat'/'lon': outside Greater London")
    if dept is not None and dept not in store.department_codes():
        raise HTTPException(422, "field 'department': not in the registry")

    key = normalised_key(body.text)
    if not key:
        raise HTTPException(422, "field 'text': nothing left to match after normalising")
    # the geocode stage's own function: deactivates older ones, audits (geocode.correct)
    cid = await run_in_threadpool(
        store_correction, store.url, body.text, body.lat, body.lon, dept, user.name
    )
    home = request.app.state.settings.home

    def check() -> dict[str, Any]:
        return _clean(geocoder_for(home, store).geocode(body.text, dept))

    result = await run_in_threadpool(check)
    return {
        "id": cid,
        "normalised_text": key,
        "department": dept,
        "lat": body.lat,
        "lon": body.lon,
        "result": result,
    }


@router.get("/corrections")
def list_corrections(user: Corrector, store: StoreDep) -> list[dict[str, Any]]:
    """Active corrections: an ED analyst sees their departments' and the London-wide ones."""
    rows = corrections_repo.list_active(
        store, None if user.role == "admin" else list(user.departments)
    )
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows
    ]


@router.delete("/corrections/{correction_id}")
def retire_correction(
    correction_id: int, request: Request, user: Corrector, store: StoreDep
) -> dict[str, Any]:
    def allowed(department: str | None) -> bool:
        return user.role == "admin" or department in user.departments

    if not corrections_repo.retire(store, correction_id, allowed):
        raise HTTPException(404, "no such correction")
    audit(store, user, "corrections.retire", f"id={correction_id}", request)
    return {"id": correction_id, "active": False}
