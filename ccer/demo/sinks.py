"""The demo's sink projects get what the registry requires of every sink (issue #18): a parcel boundary with its
land-eligibility check before publicity, and the land-cover rasters of each batch's start and end for the GIS
change check. The rasters are small synthetic CLCD-style grids written into the instance's land-cover folder
(class 1 cropland, 2 forest, 5 water/tidal flat): illustrative, not imagery."""
from __future__ import annotations

from pathlib import Path

from ..projects import boundaries

#: a 30 m grid in UTM 50N (Fujian), 40 × 40 cells; the parcel is the block of cells 10–29
X0, Y0, PX, CELLS, UTM = 640_000, 2_700_000, 30, 40, "EPSG:32650"
CLCD_WATER = 5


def _raster(path: Path, value: int, parcel_value: int) -> Path:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    data = np.full((CELLS, CELLS), value, np.uint8)
    data[10:30, 10:30] = parcel_value
    with rasterio.open(path, "w", driver="GTiff", width=CELLS, height=CELLS, count=1, dtype="uint8", crs=UTM,
                       transform=from_origin(X0, Y0, PX, PX), nodata=0) as ds:
        ds.write(data[None])
    return path


def rasters(mangrove: bool) -> tuple[Path, Path]:
    """(before, after) land cover of the demo parcel: bare land (or tidal flat) that became forest."""
    folder = boundaries.landcover_dir()
    folder.mkdir(parents=True, exist_ok=True)
    site = CLCD_WATER if mangrove else 1
    before = _raster(folder / f"demo-{'flat' if mangrove else 'bare'}-2021.tif", 1, site)
    after = _raster(folder / "demo-forest-2025.tif", 1, 2)
    return before, after


def attach_boundary(session, owner, project, tag: str) -> None:
    """Attach the demo parcel (its own cells for each project, so the projects never overlap) and check it."""
    import geopandas as gpd
    from shapely.geometry import box

    from gis.checks import Options

    mangrove = project.methodology_code == "CCER-14-002-V01"
    before, _ = rasters(mangrove)
    shift = 0 if not mangrove else 10 * PX  # different land for the two projects (no cross-project overlap)
    parcel = box(X0 + 10 * PX + shift, Y0 - 20 * PX, X0 + 20 * PX + shift, Y0 - 10 * PX)
    path = boundaries.landcover_dir() / f"demo-boundary-{tag}.geojson"
    gpd.GeoDataFrame({"parcel_id": [f"{tag}-1"]}, geometry=[parcel], crs=UTM).to_file(path)
    options = Options(kind="mangrove", site_classes=(CLCD_WATER,), project_start=project.construction_start) if mangrove else None
    boundaries.attach(session, owner, project.id, path, [before], options=options)
