"""Reversals of carbon-sink projects netted across the project's batches (methodologies.md §5.5: ER of a
monitoring period = ΔC_ACTUAL − ΔC_BSL − LK, which is negative when the stock fell; Measures Art. 48
conservativeness).

Every period's net change is kept with its sign. A project's cumulative net change N after each period is
compared with the highest N reached before (the highest verified net stock, H): a period is credited only
what lifts N above H — so a loss is recorded, stays outstanding (H − N) and must be made good by regrowth
before anything more is credited, and the CCERs of a project never exceed its highest net stock.

Stock 0 → 60 → 20 → 60 m³/ha credits the net stock once: +S, then a loss of 2/3 S recorded, then the
regrowth making it good credits 0 (tests/test_fidelity_sinks.py has the figures).

A batch that leaves the count (rejected by its VVB, refused by the registry) or one entered for an earlier
period changes the standing of every later batch: monitoring.renet recomputes the later batches still open,
once, for both (its docstring says why there rather than at verification or registration). Issued CCERs stand: a
registered batch is never recomputed, and what it credited counts towards H, so a later batch first makes
good anything it credited that the standing no longer supports."""
from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from .boundaries import SINK_METHODOLOGIES
from .models import MonitoringPeriod

D = Decimal


def is_sink(project) -> bool:
    return project.methodology_code in SINK_METHODOLOGIES


def period_changes(mp: MonitoringPeriod) -> list[Decimal]:
    """The net change (exact ER, signed) of each period of a batch; a batch recorded from the listing has no
    calculation and counts as one period of its registered quantity."""
    if mp.calculation_json:
        return [D(p["exact"]["ER"]) for p in json.loads(mp.calculation_json)["periods"]]
    return [D(sum(json.loads(mp.vintages_json or "{}").values()))]


#: batches that no longer count towards the project's netting (a negative verification, a registry refusal)
NOT_COUNTED = ("refused", "rejected")
#: batches whose netting may still change: not registered (a registered batch's CCERs are issued and stand)
OPEN = ("draft", "publicity", "verified", "applied", "returned")


def earlier(session: Session, project_id: int, before, exclude_id: int | None) -> list[MonitoringPeriod]:
    """The project's batches that count (not rejected or refused) starting before `before`, in order."""
    return list(session.execute(select(MonitoringPeriod).where(
        MonitoringPeriod.project_id == project_id, MonitoringPeriod.id != (exclude_id or 0), MonitoringPeriod.start < before,
        MonitoringPeriod.status.not_in(NOT_COUNTED)).order_by(MonitoringPeriod.start)).scalars())


def credited(mp: MonitoringPeriod) -> Decimal:
    """What a batch credits (exact): its netted periods; a batch without netting (recorded from the listing)
    its registered quantity."""
    netting = json.loads(mp.calculation_json or "{}").get("netting")
    if netting:
        return sum((D(c) for c in netting["credited"]), D(0))
    return max(D(0), sum(period_changes(mp), D(0)))


def standing(batches: list[MonitoringPeriod]) -> tuple[Decimal, Decimal]:
    """(N, H): the cumulative net change and the highest net stock credited so far (never below 0).

    H is the highest N reached or, if more, what the batches credited: in a consistent history the two are
    equal (each period credits exactly the rise of the highest N), but once a batch has left the count a
    registered batch may have credited more than the remaining history reaches — its CCERs stand, and a
    later batch makes the excess good before crediting anything (Measures Art. 48 conservativeness)."""
    n = h = D(0)
    for mp in batches:
        for change in period_changes(mp):
            n += change
            h = max(h, n)
    return n, max(h, sum((credited(mp) for mp in batches), D(0)))


def net(calc: dict, n: Decimal, h: Decimal) -> dict:
    """Net this batch's periods against the standing (n, h): the credited amount of each period and what the
    batch records (net change, loss, the loss still to be made good)."""
    credited, losses = [], D(0)
    before = {"net_change": str(n), "highest_net_stock": str(h), "outstanding_loss": str(h - n)}
    for p in calc["periods"]:
        change = D(p["exact"]["ER"])
        if change < 0:
            losses += change
        n += change
        gain = max(D(0), n - h)
        h = max(h, n)
        credited.append(gain)
    return {"rule": "a loss is recorded and made good before further removals are credited; never above the highest "
                    "verified net stock (methodologies.md §5.5; Measures Art. 48)",
            "before": before, "net_change": str(sum((D(p["exact"]["ER"]) for p in calc["periods"]), D(0))),
            "loss": str(-losses), "credited": [str(c) for c in credited],
            "after": {"net_change": str(n), "highest_net_stock": str(h), "outstanding_loss": str(h - n)}}


def current(session: Session, mp: MonitoringPeriod) -> dict:
    """The netting of a sink batch against the project's batches that count now (monitoring.renet keeps the
    stored one equal to it; the NETTING_CURRENT guard confirms it at verification and registration)."""
    return net(json.loads(mp.calculation_json), *standing(earlier(session, mp.project_id, mp.start, mp.id)))


def gis_change(session: Session, project, landcover) -> dict:
    """The GIS change check of a sink batch (gis.change.forest_change, H-gis): the forest share of each stored
    parcel on the land-cover rasters of the period's start and end; a parcel losing more than 10 points is
    flagged, and the batch carries the flag to the VVB (accounting report) and the registry (ledger)
    (gis.md; methodologies.md §5.2, §5.5). `landcover`: (before, after) paths of the registry's rasters."""
    import geopandas as gpd
    import shapely

    from gis import change
    from gis.checks import Options
    from gis.errors import GisError

    from ..infra.errors import ValidationError
    from .models import ProjectParcel

    if not landcover or len(landcover) != 2:
        raise ValidationError("a sink batch names the land-cover rasters of its start and end (before, after) for the GIS change "
                              "check of its parcels", field="landcover", rule="reversals flagged per monitoring period (gis.md)")
    rows = session.execute(select(ProjectParcel.parcel_id, ProjectParcel.wkb).where(ProjectParcel.project_id == project.id)).all()
    if not rows:
        raise ValidationError("the project has no stored parcels to check", field="boundary", rule="CCER-14-001-V01 §5.2")
    parcels = gpd.GeoDataFrame({"parcel_id": [r[0] for r in rows]}, geometry=shapely.from_wkb([r[1] for r in rows]), crs=4326)
    try:
        per_parcel = change.forest_change(parcels, landcover[0], landcover[1], Options().forest_classes)
    except GisError as err:
        raise ValidationError(err.message, field=err.field, rule=err.rule) from None
    flagged = [r["parcel_id"] for r in per_parcel if r["flagged"]]
    return {"rasters": [str(getattr(p, "name", p)) for p in landcover], "parcels": per_parcel, "flagged": flagged}
