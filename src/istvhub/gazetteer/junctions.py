"""Junction entries: network nodes where two named streets meet, approximate ones from postcode
points of two streets that come close, and pairs named by bus stops ("X / Y")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from istvhub.gazetteer.entries import _cached_norm, _hash

#: Approximate junctions from postcode points: streets whose points come this close.
POSTCODE_JUNCTION_M = 60.0


NETWORK_JUNCTION_PRECISION_M = 30.0


POSTCODE_JUNCTION_PRECISION_M = 150.0


def _junction_entries(netj: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Network junctions (precise) + approximate junctions where two streets' points in the
    same borough come within POSTCODE_JUNCTION_M (bounded: an STRtree radius query)."""
    rows: list[tuple[object, ...]] = []
    for r in netj.itertuples(index=False):
        rows.append(
            (
                "junction",
                f"{r.name_a} / {r.name_b}",
                r.easting,
                r.northing,
                NETWORK_JUNCTION_PRECISION_M,
                r.borough,
                "osm",
                r.street_a,
                r.street_b,
            )
        )
    net_pairs = set(zip(netj["street_a"], netj["street_b"], netj["borough"], strict=True))
    if len(points):
        pts = points.drop_duplicates(["entry_id", "easting", "northing"]).reset_index(drop=True)
        geoms = shapely.points(pts["easting"].to_numpy(), pts["northing"].to_numpy())
        tree = shapely.STRtree(geoms)
        i, j = tree.query(geoms, predicate="dwithin", distance=POSTCODE_JUNCTION_M)
        keep = i < j
        i, j = i[keep], j[keep]
        ent = pts["entry_id"].to_numpy()
        bor = pts["borough"].to_numpy()
        keep = (ent[i] != ent[j]) & (bor[i] == bor[j])
        i, j = i[keep], j[keep]
        key = pts["key"].to_numpy()
        ka, kb = key[i], key[j]
        swap = ka > kb
        a = np.where(swap, kb, ka)
        b = np.where(swap, ka, kb)
        e = pts["easting"].to_numpy()
        n = pts["northing"].to_numpy()
        cand = pd.DataFrame(
            {
                "a": a,
                "b": b,
                "borough": bor[i],
                "d": np.hypot(e[i] - e[j], n[i] - n[j]),
                "e": (e[i] + e[j]) / 2,
                "n": (n[i] + n[j]) / 2,
            }
        )
        cand = cand[cand["a"] != cand["b"]]
        best = cand.sort_values(["a", "b", "borough", "d", "e", "n"]).drop_duplicates(
            ["a", "b", "borough"]
        )
        # by column: a row tuple's fields type as any pandas scalar
        cols = (best[c] for c in ("a", "b", "borough", "e", "n", "d"))
        for sa, sb, sbor, se, sn, sd in zip(*cols, strict=True):
            if (sa, sb, sbor) in net_pairs:
                continue
            rows.append(
                (
                    "junction",
                    f"{sa.title()} / {sb.title()}",
                    se,
                    sn,
                    POSTCODE_JUNCTION_PRECISION_M + sd / 2,
                    sbor,
                    "postcode_streets",
                    sa,
                    sb,
                )
            )
    df = pd.DataFrame(
        rows,
        columns=[
            "entry_type",
            "name",
            "easting",
            "northing",
            "precision_m",
            "borough",
            "source",
            "street_a",
            "street_b",
        ],
    )
    df["entry_id"] = junction_ids(df)
    df["category"] = None
    df["lsoa_code"] = None
    df["district"] = None
    return df


BUS_STOP_JUNCTION_PRECISION_M = 100.0


def _bus_stop_junctions(
    pois: pd.DataFrame, variants: pd.Series, streets: pd.DataFrame, junctions: pd.DataFrame
) -> pd.DataFrame:
    """Bus stops named 'X / Y' where X and Y are both streets of the stop's borough give the
    junctions that postcode points miss (a main road's postcodes often stop short of the
    corner). Pairs already known from the network or postcode points are left alone."""
    street_keys = set(zip(streets["name"].map(_cached_norm), streets["borough"], strict=True))
    have = set(zip(junctions["street_a"], junctions["street_b"], junctions["borough"], strict=True))
    names = dict(zip(streets["name"].map(_cached_norm), streets["name"], strict=False))
    is_bus = (pois["entry_type"] == "bus_stop").to_numpy()
    rows = []
    for e, n, bo, vs in zip(
        pois.loc[is_bus, "easting"],
        pois.loc[is_bus, "northing"],
        pois.loc[is_bus, "borough"],
        variants[is_bus],
        strict=True,
    ):
        if not vs or len(vs) != 2:
            continue
        a, b = sorted(_cached_norm(v) for v in vs)
        if a == b or (a, bo) not in street_keys or (b, bo) not in street_keys or (a, b, bo) in have:
            continue
        rows.append((a, b, bo, e, n))
    df = pd.DataFrame(rows, columns=["street_a", "street_b", "borough", "easting", "northing"])
    # the stops on both sides of the road (same pair) -> one junction between them
    df = df.groupby(["street_a", "street_b", "borough"], as_index=False, sort=True)[
        ["easting", "northing"]
    ].mean()
    df["entry_type"] = "junction"
    df["name"] = [
        f"{names.get(a, a.title())} / {names.get(b, b.title())}"
        for a, b in zip(df["street_a"], df["street_b"], strict=True)
    ]
    df["precision_m"] = BUS_STOP_JUNCTION_PRECISION_M
    df["source"] = "tfl_bus_stops"
    df["entry_id"] = junction_ids(df)
    for c in ("category", "lsoa_code", "district"):
        df[c] = None
    return df


def _junction_display(df: pd.DataFrame, street_names: dict[str, str]) -> pd.Series:
    return pd.Series(
        [
            f"{street_names.get(a, a.title())} / {street_names.get(b, b.title())}"
            for a, b in zip(df["street_a"], df["street_b"], strict=True)
        ],
        index=df.index,
    )


def junction_ids(df: pd.DataFrame) -> list[str]:
    """Stable ids of junction rows: the two streets, the borough and the rounded point, so a
    junction keeps its id across rebuilds whichever source found it."""
    return [
        "junction:" + _hash(a, b, bo, round(e), round(n))
        for a, b, bo, e, n in zip(
            df["street_a"],
            df["street_b"],
            df["borough"],
            df["easting"],
            df["northing"],
            strict=True,
        )
    ]
