"""Store-side helpers of ``benchmarks/scale.py``: filling geocodes from the generator's truth and
cloning ingested years (SQL, both backends). Benchmark code, not the product's write path."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

STATUS_OF = {"home": "home", "unknown": "unknown", "outside_area": "outside_area"}


def areas_of(home: Path, e: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Borough name and LSOA code of each point (NaN points get None), from the gazetteer.

    The generator's places repeat (that is the realistic part), so each distinct point is
    joined once and the answers spread back."""
    import geopandas as gpd

    from istvhub.hotblocks.service import load_network

    net = load_network(home)
    ok = ~(np.isnan(e) | np.isnan(n))
    pts_all = np.column_stack([e[ok], n[ok]])
    uniq, inverse = np.unique(pts_all, axis=0, return_inverse=True)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(uniq[:, 0], uniq[:, 1]), crs=27700)
    borough = np.full(len(e), None, dtype=object)
    lsoa = np.full(len(e), None, dtype=object)
    for layer, col, out in ((net.boroughs, "borough", borough), (net.lsoas, "lsoa_code", lsoa)):
        if layer is None:
            continue
        name = col if col in layer.columns else layer.columns[0]
        j = gpd.sjoin(pts, layer[[name, "geometry"]].to_crs(27700), how="left", predicate="within")
        j = j[~j.index.duplicated()].sort_index()
        out[np.flatnonzero(ok)] = j[name].to_numpy(dtype=object)[inverse.ravel()]
    return borough, lsoa


def fill_geocodes_from_truth(store, truth: pd.DataFrame, home: Path) -> int:
    """Write the generator's own places onto the records (a store the geocoder got right)."""
    from pyproj import Transformer

    with store.engine.connect() as conn:
        ids = pd.DataFrame(
            conn.execute(sa.text("select id, department, period, source_row from records")).all(),
            columns=["id", "department", "period", "source_row"],
        )
    ids["source_row"] = ids["source_row"].astype(int)
    # the MDS writer numbers data rows from 1 in record order: match on that order
    ids = ids.sort_values(["department", "period", "source_row"])
    ids["rank"] = ids.groupby(["department", "period"]).cumcount() + 1
    t = truth.rename(columns={"source_row": "rank"})
    df = ids.merge(t, on=["department", "period", "rank"], how="inner")
    status = df["category"].map(STATUS_OF).fillna("located")
    status[df["e"].isna() & (status == "located")] = "unknown"
    df["geo_status"] = status
    df["match_type"] = np.where(status == "located", df["category"], None)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(
        df["e"].to_numpy(dtype=float), df["n"].to_numpy(dtype=float)
    )
    df["lat"], df["lon"] = lat, lon
    df["precision_m"] = df["tol"].astype(float).fillna(50.0)
    df["borough"], df["lsoa_code"] = areas_of(
        home, df["e"].to_numpy(dtype=float), df["n"].to_numpy(dtype=float)
    )
    cols = ["id", "geo_status", "match_type", "lat", "lon", "e", "n", "precision_m"]
    cols += ["borough", "lsoa_code"]
    out = df[cols].rename(columns={"e": "easting", "n": "northing"})
    out.loc[out["geo_status"] != "located", ["lat", "lon", "easting", "northing"]] = None
    _bulk_update(store, out)
    return len(out)


def _bulk_update(store, df: pd.DataFrame) -> None:
    cols = [c for c in df.columns if c != "id"]
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "create temp table g (id int, geo_status text, match_type text, lat float8, "
                "lon float8, easting float8, northing float8, precision_m float8, borough text, "
                "lsoa_code text) on commit drop"
            )
            raw = conn.connection.driver_connection
            buf = io.StringIO()
            df.to_csv(buf, index=False, header=False, na_rep="\\N", sep="\t")
            buf.seek(0)
            with raw.cursor() as cur, cur.copy("copy g from stdin") as cp:
                while chunk := buf.read(1 << 20):
                    cp.write(chunk)
            sets = ", ".join(f"{c} = g.{c}" for c in cols)
            conn.exec_driver_sql(f"update records r set {sets} from g where r.id = g.id")
        else:
            stmt = sa.text(
                "update records set " + ", ".join(f"{c} = :{c}" for c in cols) + " where id = :id"
            )
            recs = df.astype(object).where(df.notna(), None).to_dict("records")
            conn.execute(stmt, recs)
    from istvhub.store.repos.stats import rebuild_submission_stats

    rebuild_submission_stats(store)


def _shift_sql(dialect: str, months: int) -> dict[str, str]:
    """SQL expressions moving a row ``months`` months back (period text, timestamps, dates,
    ids)."""
    if dialect == "postgresql":
        return {
            "period": f"to_char(to_date({{t}}.period, 'YYYY-MM') - interval '{months} months',"
            " 'YYYY-MM')",
            "ts": f"{{t}}.{{c}} - interval '{months} months'",
            "date": f"cast({{t}}.{{c}} - interval '{months} months' as date)",
            "record_id": f"md5({{t}}.record_id || ':m{months}')",
        }
    return {
        "period": f"strftime('%Y-%m', {{t}}.period || '-01', '-{months} months')",
        "ts": f"datetime({{t}}.{{c}}, '-{months} months')",
        "date": f"date({{t}}.{{c}}, '-{months} months')",
        "record_id": f"substr({{t}}.record_id, 1, 56) || ':m{months}'",
    }


def clone_back(store, first: str, last: str, copies: int, span: int) -> int:
    """Copy the submissions and records of ``first``..``last`` (``span`` months) ``1..copies``
    times, each ``span`` months further back, so a store of ``copies + 1`` times the ingested
    span exists without ingesting it all. The copies keep every column (geocodes included);
    ids, periods and dates move. Returns the number of records added."""
    from istvhub.store import schema

    dialect = store.engine.dialect.name
    sub_cols = [c.name for c in schema.submissions.columns if c.name != "submission_id"]
    rec_cols = [c.name for c in schema.records.columns if c.name != "id"]
    pg = dialect == "postgresql"
    between = "%(a)s and %(b)s" if pg else "? and ?"
    params = {"a": first, "b": last} if pg else (first, last)
    added = 0
    with store.engine.begin() as conn:
        for k in range(1, copies + 1):
            x = _shift_sql(dialect, k * span)

            def expr(col: str, t: str, x=x) -> str:
                if col == "period":
                    return x["period"].format(t=t)
                if col in ("received_at", "arrival_at", "geocoded_at"):
                    return x["ts"].format(t=t, c=col)
                if col == "incident_date":
                    return x["date"].format(t=t, c=col)
                if col == "record_id":
                    return x["record_id"].format(t=t)
                return f"{t}.{col}"

            conn.exec_driver_sql(
                f"insert into submissions ({', '.join(sub_cols)}) select "
                + ", ".join(expr(c, "s") for c in sub_cols)
                + f" from submissions s where s.period between {between}",
                params,
            )
            sel = ", ".join(
                "n.submission_id" if c == "submission_id" else expr(c, "r") for c in rec_cols
            )
            join = (
                " from records r join submissions o on o.submission_id = r.submission_id"
                " join submissions n on n.department = o.department and n.version = o.version"
                f" and n.period = {x['period'].format(t='o')}"
            )
            res = conn.exec_driver_sql(
                f"insert into records ({', '.join(rec_cols)}) select {sel}{join}"
                f" where o.period between {between}",
                params,
            )
            added += res.rowcount or 0
    from istvhub.store.repos.stats import rebuild_submission_stats

    rebuild_submission_stats(store)
    if dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("vacuum analyze records")
            conn.exec_driver_sql("vacuum analyze submissions")
    return added
