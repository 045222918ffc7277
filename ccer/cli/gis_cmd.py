"""ccer gis check | overlaps | change: boundary checks of forest-carbon projects against land-cover rasters."""
from __future__ import annotations

import json
import sys

import click

from . import main


def _classes(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        return tuple(int(x) for x in text.replace(" ", "").split(",") if x)
    except ValueError:
        raise click.BadParameter(f"{text!r}: give class codes like 2 or 2,3", param_hint="classes") from None


def _fail(err) -> None:
    click.echo(f"error: {err}" + (f" [{err.rule}]" if getattr(err, "rule", None) else ""), err=True)
    sys.exit(2)


def _progress(done: int, total: int, message: str) -> None:
    click.echo(f"[{done}/{total}] {message}", err=True)


@main.group("gis")
def gis() -> None:
    """Forest-carbon boundaries against satellite rasters (CCER-14-001-V01, CCER-14-002-V01)."""


@gis.command("check")
@click.argument("boundary", type=click.Path(dir_okay=False))
@click.option("--landcover", "rasters", multiple=True, required=True, type=click.Path(),
              help="land-cover raster of a baseline epoch: a GeoTIFF/COG, a VRT or a folder of tiles (repeat for each year)")
@click.option("--forest-classes", default="2", show_default=True, help="raster codes of forest (CLCD: 2)")
@click.option("--wetland-classes", default="", help="raster codes of wetland (CLCD: 9)")
@click.option("--max-forest-share", type=float, default=0.2, show_default=True)
@click.option("--max-wetland-share", type=float, default=0.2, show_default=True)
@click.option("--kind", type=click.Choice(["afforestation", "mangrove"]), default="afforestation", show_default=True)
@click.option("--site-classes", default="", help="mangroves: tidal-flat / aquaculture-pond codes")
@click.option("--mangrove-classes", default="", help="mangroves: codes of existing mangrove")
@click.option("--start", "project_start", type=click.DateTime(["%Y-%m-%d"]), help="project start (min. area 667 m² if ≤ 2019)")
@click.option("--id-field", default="parcel_id", show_default=True)
@click.option("--crs", help="CRS of a file that declares none, e.g. EPSG:4490")
@click.option("--nodata", type=float, help="nodata value of rasters that declare none")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True)
@click.option("--geojson", "geojson_out", type=click.Path(dir_okay=False), help="write the flagged parcels here")
@click.option("--png", "png_out", type=click.Path(dir_okay=False), help="write a map here")
@click.option("--dask-workers", type=int, default=0, help="run on a local Dask cluster with this many workers "
              "(or on the scheduler at CCER_DASK_SCHEDULER)")
def check(boundary, rasters, forest_classes, wetland_classes, max_forest_share, max_wetland_share, kind, site_classes,
          mangrove_classes, project_start, id_field, crs, nodata, fmt, geojson_out, png_out, dask_workers) -> None:
    """Geometry, area, overlaps and land eligibility of every parcel."""
    from gis import checks, io, report
    from gis.errors import GisError

    try:
        b = io.read(boundary, id_field=id_field, crs=crs)
        opts = checks.Options(kind=kind, forest_classes=_classes(forest_classes), wetland_classes=_classes(wetland_classes),
                              max_forest_share=max_forest_share, max_wetland_share=max_wetland_share,
                              site_classes=_classes(site_classes), mangrove_classes=_classes(mangrove_classes),
                              project_start=project_start.date() if project_start else None, nodata=nodata)
        if dask_workers:
            from dask.distributed import Client, LocalCluster

            from gis.distributed import measure_on

            import os

            scheduler = os.environ.get("CCER_DASK_SCHEDULER")  # production: a dask.distributed scheduler's address
            if scheduler:
                with Client(scheduler) as client:
                    result = checks.check(b, list(rasters), opts, progress=_progress, measure_fn=measure_on(client))
            else:
                with LocalCluster(n_workers=dask_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
                    result = checks.check(b, list(rasters), opts, progress=_progress, measure_fn=measure_on(client))
        else:
            result = checks.check(b, list(rasters), opts, progress=_progress)
    except GisError as err:
        _fail(err)
    if geojson_out:
        with open(geojson_out, "w", encoding="utf-8") as fh:
            fh.write(report.flagged_geojson(b, result))
    if png_out:
        report.png_map(b, result, png_out)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, default=str, separators=(",", ":")))  # compact: reports run to MBs
        return
    s = result["summary"]
    click.echo(f"{result['source']} ({result['crs']}): {s['eligible']}/{s['parcels']} parcels eligible, "
               f"{s['eligible_area_ha']} of {s['area_ha']} ha; {s['overlaps']} overlap(s)")
    click.echo(f"{'parcel':<14}{'area ha':>12}{'forest':>9}  eligible  issues")
    for p in result["parcels"]:
        forest = "—" if p["forest_fraction"] is None else f"{p['forest_fraction']:.1%}"
        area = "—" if p["area_ha"] is None else f"{p['area_ha']:.4f}"
        click.echo(f"{str(p['parcel_id']):<14}{area:>12}{forest:>9}  {'yes' if p['eligible'] else 'NO ':<8}  "
                   + "; ".join(i["message"] for i in p["issues"]))


@gis.command("overlaps")
@click.argument("boundary", type=click.Path(dir_okay=False))
@click.option("--against", "others", multiple=True, type=click.Path(dir_okay=False),
              help="another project's boundary file (repeat); without it, the registry's stored boundaries")
@click.option("--id-field", default="parcel_id", show_default=True)
@click.option("--crs")
@click.option("--tolerance-m2", type=float, default=1.0, show_default=True)
@click.pass_obj
def overlaps(obj, boundary, others, id_field, crs, tolerance_m2) -> None:
    """Overlaps of a project's parcels with each other and with every other project's."""
    import geopandas as gpd

    from gis import io, overlap
    from gis.errors import GisError

    try:
        b = io.read(boundary, id_field=id_field, crs=crs)
        inside = overlap.find(b.parcels, tolerance_m2=tolerance_m2)
        frames = []
        for path in others:
            o = io.read(path, id_field=id_field).parcels.to_crs(4326)
            o["project"] = str(path)
            frames.append(o)
        if not others:
            from ..projects import boundaries

            with obj.session() as session:
                frames.append(boundaries.registry_parcels(session, b.parcels))
        pool = gpd.GeoDataFrame(gpd.pd.concat(frames, ignore_index=True), crs=4326) if frames else None
        across = overlap.find(b.parcels, pool, tolerance_m2=tolerance_m2) if pool is not None and len(pool) else []
    except GisError as err:
        _fail(err)
    totals = {"inside_total": inside.total, "across_total": getattr(across, "total", len(across)),
              "capped": inside.capped or getattr(across, "capped", False)}  # lists hold the first pairs only
    click.echo(json.dumps({"inside": inside, "across": across, **totals}, ensure_ascii=False, indent=1))
    if inside or across:
        sys.exit(1)


@gis.command("change")
@click.argument("boundary", type=click.Path(dir_okay=False))
@click.option("--before", required=True, type=click.Path(dir_okay=False))
@click.option("--after", required=True, type=click.Path(dir_okay=False))
@click.option("--forest-classes", default="2", show_default=True)
@click.option("--ndvi", "ndvi_bands", help="RED,NIR band numbers: compare NDVI instead of forest share")
@click.option("--max-loss", type=float, default=0.1, show_default=True)
@click.option("--id-field", default="parcel_id", show_default=True)
@click.option("--nodata", type=float)
def change(boundary, before, after, forest_classes, ndvi_bands, max_loss, id_field, nodata) -> None:
    """Loss between two epochs per parcel; parcels losing more than --max-loss are flagged (reversal)."""
    from gis import change as ch
    from gis import io
    from gis.errors import GisError

    try:
        parcels = io.read(boundary, id_field=id_field).parcels
        if ndvi_bands:
            red, nir = (int(x) for x in ndvi_bands.split(","))
            rows = ch.ndvi_change(parcels, before, after, red, nir, max_loss, nodata)
        else:
            rows = ch.forest_change(parcels, before, after, _classes(forest_classes), max_loss, nodata)
    except GisError as err:
        _fail(err)
    click.echo(json.dumps(rows, ensure_ascii=False, indent=1))

