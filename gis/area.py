"""Area in hectares, two ways: on the Albers equal-area projection for China (standard parallels 25° and 47°,
central meridian 105°, as CLCD uses) and geodesically on the CGCS2000 ellipsoid (GRS80 parameters), so a
report can show both (gis.md §1.1). Gauss–Krüger zones are conformal, not equal-area: never used for area.
Minimum parcel area: 400 m², 667 m² (one mu) for projects started in or before 2019 (CCER-14-001-V01 §4 c)."""
from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Geod

ALBERS_CHINA = CRS.from_proj4("+proj=aea +lat_0=0 +lat_1=25 +lat_2=47 +lon_0=105 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs")
CGCS2000 = CRS.from_epsg(4490)
_GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid: a = 6378137 m, 1/f = 298.257222101


def albers_ha(parcels: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.area(parcels.to_crs(ALBERS_CHINA).geometry.values) / 10_000


def geodesic_ha(parcels: gpd.GeoDataFrame) -> np.ndarray:
    geo = parcels.to_crs(CGCS2000).geometry.values
    return np.array([abs(_GEOD.geometry_area_perimeter(g)[0]) / 10_000 if g is not None and not g.is_empty else 0.0 for g in geo])


def minimum_m2(project_start: date | None) -> int:
    return 667 if project_start is not None and project_start.year <= 2019 else 400


def small_parts(geom, minimum_m2: float) -> list[float]:
    """Areas (m², equal-area CRS) of the parts below the minimum contiguous area."""
    return [a for a in shapely.area(shapely.get_parts(geom)) if a < minimum_m2]
