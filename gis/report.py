"""Outputs of a check: the JSON report (checks.check), GeoJSON of the flagged parcels, a PNG map, and an
HTML section for the PDF reports."""
from __future__ import annotations

import json
from html import escape
from pathlib import Path

import geopandas as gpd

from .io import Boundaries


def flagged_geojson(boundaries: Boundaries, report: dict) -> str:
    bad = {p["parcel_id"]: p for p in report["parcels"] if not p["eligible"]}
    gdf = boundaries.parcels[boundaries.parcels["parcel_id"].isin(bad)].to_crs(4326).copy()
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


def _pct(x) -> str:
    return "—" if x is None else f"{x:.1%}"


def html_section(report: dict) -> str:
    s = report["summary"]
    rows = "".join(
        f"<tr><td>{escape(str(p['parcel_id']))}</td><td>{p['area_ha'] if p['area_ha'] is not None else '—'}</td>"
        f"<td>{_pct(p['forest_fraction'])}</td><td>{'是 yes' if p['eligible'] else '否 no'}</td>"
        f"<td>{escape('; '.join(i['message'] for i in p['issues']))}</td></tr>"
        for p in report["parcels"])
    return (f"<h2>地块核查 Boundary check ({escape(report['source'])})</h2>"
            f"<p>{s['eligible']}/{s['parcels']} parcels eligible, {s['eligible_area_ha']} of {s['area_ha']} ha; rasters: "
            f"{escape(', '.join(report['rasters']))}; overlaps inside the project: {s['overlaps']}.</p>"
            "<table><tr><th>地块 Parcel</th><th>面积 ha</th><th>森林 Forest</th><th>合格 Eligible</th><th>问题 Issues</th></tr>"
            f"{rows}</table>")
