"""Rasters as mosaics: the registry keeps a province's land cover as many tiles — a GDAL VRT, or a folder of
COGs that becomes one (written beside the tiles, or in the temporary folder when that is read-only) — and the
check reads only the windows its parcels cover (zonal._read, exactextract's raster-sequential strategy), so a
province never needs one file or one array in memory (gis.md §1, §5).

Refused with the reason, before any work: a VRT naming a tile that is missing (the tile is named), tiles of
one mosaic in different CRS, resolution or data type, and epochs of one check on different grids (CRS or
resolution differ: reproject them onto one grid first, e.g. `gdalwarp -t_srs … -tr 30 30 -tap`; gis.md §5
"Aligned grids")."""
from __future__ import annotations

import hashlib
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import rasterio

from .errors import GisError

TILE_SUFFIXES = (".tif", ".tiff")


def resolve(path: str | Path) -> Path:
    """The raster to open for `path`: a file as it is (a VRT checked for missing tiles), a folder of tiles as
    the VRT that mosaics them."""
    path = Path(path)
    if path.is_dir():
        return folder_vrt(path)
    if path.suffix.lower() == ".vrt":
        check_vrt(path)
    return path


def check_vrt(path: Path) -> None:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise GisError(f"cannot read the mosaic {path.name}: {exc}", field="raster") from None
    for source in root.iter("SourceFilename"):
        name = (source.text or "").strip()
        tile = (path.parent / name) if source.get("relativeToVRT") == "1" else Path(name)
        if not name.startswith("/vsi") and not tile.exists():
            raise GisError(f"the mosaic {path.name} names a tile that is missing: {name}", field="raster")


def folder_vrt(folder: Path) -> Path:
    tiles = sorted(p for p in folder.iterdir() if p.suffix.lower() in TILE_SUFFIXES)
    if not tiles:
        raise GisError(f"{folder.name} holds no GeoTIFF tiles (*.tif)", field="raster")
    first = None
    boxes = []
    for tile in tiles:
        with rasterio.open(tile) as ds:
            grid = (ds.crs, ds.res, ds.dtypes[0], ds.nodata, ds.count)
            if first is None:
                first, name0 = grid, tile.name
            elif grid != first:
                raise GisError(f"tile {tile.name} is {_describe(grid)}, tile {name0} is {_describe(first)}: the tiles of one "
                               "mosaic share CRS, resolution, data type and nodata", field="raster")
            boxes.append((tile, ds.bounds, ds.width, ds.height, [ds.block_shapes[0]]))
    crs, (rx, ry), dtype, nodata, count = first
    left = min(b.left for _, b, *_ in boxes)
    top = max(b.top for _, b, *_ in boxes)
    right = max(b.right for _, b, *_ in boxes)
    bottom = min(b.bottom for _, b, *_ in boxes)
    width, height = round((right - left) / rx), round((top - bottom) / ry)
    gdal_type = {"uint8": "Byte", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32", "int32": "Int32",
                 "float32": "Float32", "float64": "Float64"}[dtype]
    root = ET.Element("VRTDataset", rasterXSize=str(width), rasterYSize=str(height))
    ET.SubElement(root, "SRS").text = crs.to_wkt()
    ET.SubElement(root, "GeoTransform").text = f"{left!r}, {rx!r}, 0.0, {top!r}, 0.0, {-ry!r}"
    for band in range(1, count + 1):
        b = ET.SubElement(root, "VRTRasterBand", dataType=gdal_type, band=str(band))
        if nodata is not None:
            ET.SubElement(b, "NoDataValue").text = repr(nodata)
        for tile, bounds, w, h, blocks in boxes:
            src = ET.SubElement(b, "SimpleSource")
            ET.SubElement(src, "SourceFilename", relativeToVRT="0").text = str(tile.resolve())
            ET.SubElement(src, "SourceBand").text = str(band)
            ET.SubElement(src, "SrcRect", xOff="0", yOff="0", xSize=str(w), ySize=str(h))
            ET.SubElement(src, "DstRect", xOff=str(round((bounds.left - left) / rx)), yOff=str(round((top - bounds.top) / ry)),
                          xSize=str(w), ySize=str(h))
    text = ET.tostring(root, encoding="unicode")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    for where in (folder, Path(tempfile.gettempdir())):
        out = where / f"mosaic-{digest}.vrt"
        try:
            if not out.exists():
                out.write_text(text, encoding="utf-8")
            return out
        except OSError:
            continue
    raise GisError(f"cannot write a mosaic of {folder.name}", field="raster")


def _describe(grid) -> str:
    crs, (rx, ry), dtype, nodata, count = grid
    return f"{crs.to_string() if crs else 'without CRS'} at {rx:g} × {ry:g}, {dtype}, nodata {nodata}, {count} band(s)"


def same_grid(rasters: list[Path]) -> None:
    """Epochs of one check on one CRS and resolution, or the refusal with the reason."""
    first = None
    for raster in rasters:
        with rasterio.open(raster) as ds:
            grid = (ds.crs, tuple(round(r, 9) for r in ds.res))
        if first is None:
            first, name0 = grid, Path(raster).name
        elif grid != first:
            raise GisError(f"epoch {Path(raster).name} is in {grid[0].to_string()} at {grid[1][0]:g} × {grid[1][1]:g}, epoch {name0} "
                           f"in {first[0].to_string()} at {first[1][0]:g} × {first[1][1]:g}: the epochs of one check must share CRS "
                           "and resolution (reproject them onto one grid first, e.g. gdalwarp -tap)", field="raster",
                           rule="aligned grids: coverage computed once and reused for every epoch (gis.md §5)")
