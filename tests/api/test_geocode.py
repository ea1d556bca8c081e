"""/geocode and /corrections: the API gives the same answers as the Geocoder itself, and the
correction rules (own department; London-wide for admin) are attacked."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from istvhub.records import GEOCODE_COLUMNS

DEV = Path(__file__).resolve().parents[2] / "sample_feeds" / "geocode_dev.csv"


def _dist_m(lat1, lon1, lat2, lon2):
    k = 111_320.0
    return math.hypot((lat1 - lat2) * k, (lon1 - lon2) * k * math.cos(math.radians(lat1)))


@pytest.fixture(scope="module")
def dev_sample() -> pd.DataFrame:
    df = pd.read_csv(DEV, dtype={"text": str})
    return pd.concat([df[df["expect"] == "located"].head(40), df[df["expect"] == "home"].head(5)])


def test_batch_matches_the_geocoder_and_the_ground_truth(geo_hub, dev_sample, gazetteer_home):
    from istvhub.geocode import Geocoder

    texts = dev_sample["text"].tolist()
    r = geo_hub.client.post(
        "/geocode", json={"texts": texts, "department": "RJ122"}, headers=geo_hub.h("ed")
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(texts)
    assert all(set(x) == set(GEOCODE_COLUMNS) for x in results)
    direct = Geocoder.load(gazetteer_home).geocode_frame(
        pd.DataFrame({"location_text": texts, "department": ["RJ122"] * len(texts)})
    )
    assert [x["geo_status"] for x in results] == direct["geo_status"].tolist()
    homes = [x for x, e in zip(results, dev_sample["expect"], strict=True) if e == "home"]
    assert all(x["geo_status"] == "home" and x["lat"] is None for x in homes)
    located = [
        (x, row)
        for x, row in zip(results, dev_sample.itertuples(), strict=True)
        if row.expect == "located"
    ]
    hits = sum(
        1
        for x, row in located
        if x["geo_status"] == "located"
        and _dist_m(x["lat"], x["lon"], row.lat, row.lon) <= row.tol_m
    )
    assert hits >= len(located) * 0.6  # the API adds nothing and loses nothing


def test_single_text_and_validation(geo_hub):
    r = geo_hub.client.post("/geocode", json={"text": "u/k"}, headers=geo_hub.h("csp"))
    assert r.status_code == 200 and r.json()["result"]["geo_status"] == "unknown"
    for bad in ({}, {"text": "a", "texts": ["b"]}, {"texts": ["x" * 300]}, {"texts": ["a"] * 1001}):
        assert geo_hub.client.post("/geocode", json=bad, headers=geo_hub.h("ed")).status_code == 422
    assert geo_hub.client.post("/geocode", json={"text": "x"}).status_code == 401


def test_ed_correction_changes_the_answer_for_their_department_only(geo_hub):
    text = "behind the bins at the back of the big shop"
    before = geo_hub.client.post(
        "/geocode", json={"text": text, "department": "RJ122"}, headers=geo_hub.h("ed")
    ).json()["result"]
    assert (
        before["geo_status"] != "located"
        or _dist_m(before["lat"], before["lon"], 51.5136, -0.1365) > 50
    )
    r = geo_hub.client.post(
        "/corrections", headers=geo_hub.h("ed"), json={"text": text, "lat": 51.5136, "lon": -0.1365}
    )
    assert r.status_code == 201, r.text
    assert r.json()["department"] == "RJ122"
    after = geo_hub.client.post(
        "/geocode", json={"text": text, "department": "RJ122"}, headers=geo_hub.h("ed")
    ).json()["result"]
    assert after["geo_status"] == "located"
    assert _dist_m(after["lat"], after["lon"], 51.5136, -0.1365) < 5
    other = geo_hub.client.post(
        "/geocode", json={"text": text, "department": "RJZ01"}, headers=geo_hub.h("ed")
    ).json()["result"]
    assert (
        other["geo_status"] != "located"
        or _dist_m(other["lat"], other["lon"], 51.5136, -0.1365) > 50
    )
    assert any(
        c["normalised_text"]
        for c in geo_hub.client.get("/corrections", headers=geo_hub.h("ed")).json()
    )
    assert "geocode.correct" in set(geo_hub.store.audit_log()["action"])


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("ed", {"department": "RJZ01"}, 403),  # another department
        ("ed", {"department": None}, 201),  # defaults to their only department
        ("ed_other", {"department": "RJ122"}, 403),
        ("csp", {}, 403),
        ("mopac", {}, 403),
        ("admin", {"department": None}, 201),  # London-wide
        ("ed", {"lat": 52.5}, 422),  # outside London
    ],
)
def test_correction_rules(geo_hub, who, body, status):
    payload = {"text": "by the fountain", "lat": 51.51, "lon": -0.13, **body}
    if payload.get("department") is None:
        payload.pop("department", None)
    r = geo_hub.client.post("/corrections", json=payload, headers=geo_hub.h(who))
    assert r.status_code == status, r.text


def test_ed_analyst_cannot_retire_another_departments_correction(geo_hub):
    cid = geo_hub.client.post(
        "/corrections",
        headers=geo_hub.h("ed_other"),
        json={"text": "by the kiosk", "lat": 51.5, "lon": -0.1},
    ).json()["id"]
    assert geo_hub.client.delete(f"/corrections/{cid}", headers=geo_hub.h("ed")).status_code == 404
    assert (
        geo_hub.client.delete(f"/corrections/{cid}", headers=geo_hub.h("ed_other")).status_code
        == 200
    )
