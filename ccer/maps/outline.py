"""The map's stand-in for a basemap: a coarse outline of China, built from Natural Earth's 1:110m countries
(public domain; the copy pyogrio ships as a test fixture, gis.md §9), mainland with Hainan and Taiwan as one
outline, simplified to ~0.05°. It is a schematic (示意), not a standard map with a 审图号: production points
CCER_MAP_BASEMAP at an approved basemap (e.g. 天地图 tiles mirrored by the registry).

    python -m ccer.maps.outline     # rewrites ccer/maps/data/china_outline.geojson
"""
from __future__ import annotations

import json
from pathlib import Path

OUTLINE = Path(__file__).with_name("data") / "china_outline.geojson"


def build() -> dict:
    import importlib.util

    import geopandas as gpd
    import shapely

    fixtures = Path(importlib.util.find_spec("pyogrio").submodule_search_locations[0]) / "tests" / "fixtures"
    world = gpd.read_file(fixtures / "naturalearth_lowres" / "naturalearth_lowres.shp")
    china = shapely.union_all(world[world["iso_a3"].isin(["CHN", "TWN"])].geometry.values)
    china = shapely.set_precision(shapely.simplify(china, 0.05), 0.001)
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "中国（示意轮廓，非标准地图）", "source": "Natural Earth 1:110m (public domain)"},
        "geometry": json.loads(shapely.to_geojson(china))}]}


if __name__ == "__main__":
    OUTLINE.write_text(json.dumps(build(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"wrote {OUTLINE} ({OUTLINE.stat().st_size:,} bytes)")
