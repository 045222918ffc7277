"""Outputs of a check beside its JSON report (checks.check): GeoJSON of the flagged parcels (invalid ones as
their repaired copy, marked so, for display) and a PNG map. The design document's PDF carries the summary."""
from __future__ import annotations

import json
from pathlib import Path

import shapely

from .io import Boundaries


def flagged_geojson(boundaries: Boundaries, report: dict) -> str:
    bad = {p["parcel_id"]: p for p in report["parcels"] if not p["eligible"]}
    gdf = boundaries.parcels[boundaries.parcels["parcel_id"].isin(bad)].to_crs(4326).copy()
    invalid = ~shapely.is_valid(gdf.geometry.values)
    gdf["repaired"] = invalid  # GeoJSON viewers cannot draw a self-intersecting ring reliably
    gdf.loc[invalid, "geometry"] = shapely.make_valid(gdf.geometry.values[invalid])
    gdf["issues"] = [json.dumps([i["message"] for i in bad[pid]["issues"]], ensure_ascii=False) for pid in gdf["parcel_id"]]
    gdf["forest_fraction"] = [bad[pid]["forest_fraction"] for pid in gdf["parcel_id"]]
    return gdf.to_json(drop_id=True)


def png_map(boundaries: Boundaries, report: dict, path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = {p["parcel_id"]: p["eligible"] for p in report["parcels"]}
    gdf = boundaries.parcels.to_crs(4326)
    colours = ["#2e7d32" if ok.get(pid) else "#c62828" for pid in gdf["parcel_id"]]
    fig, ax = plt.subplots(figsize=(7, 7), dpi=110)
    gdf.plot(ax=ax, color=colours, edgecolor="#222", linewidth=0.4)
    ax.set_title(f"{report['source']}: {report['summary']['eligible']}/{report['summary']['parcels']} parcels eligible (green)")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)

