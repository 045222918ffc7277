"""Issue 16, owner item "boundary upload with the GIS check drawn on a Leaflet map": an afforestation project's
parcels uploaded as GeoJSON, checked against the registry's reference land cover, the parcels drawn coloured by
finding with the per-parcel issues beside the map; a file of the wrong type refused with the reason."""
from __future__ import annotations

import json

import geopandas as gpd
import numpy as np

from tests.test_gis import UTM, px, write_raster

from .conftest import login, shot, switch_language

EXAMPLE = "methodologies/ccer_14_001_v01/examples/chinese-fir-two-periods.json"


def test_an_owner_uploads_a_boundary_and_sees_the_check_on_a_map(live_server, page, tmp_path, monkeypatch):
    from sqlalchemy import select

    from ccer.auth.models import User
    from ccer.auth.services import actor_for
    from ccer.projects import lifecycle

    # the registry's reference land cover: forest in the western half, cropland in the eastern (classes 2 and 1)
    folder = tmp_path / "landcover"
    folder.mkdir()
    a = np.ones((100, 100), np.uint8)
    a[:, :50] = 2
    write_raster(folder / "clcd-2020.tif", a)
    monkeypatch.setenv("CCER_LANDCOVER_DIR", str(folder))
    with open(EXAMPLE, encoding="utf-8") as f:
        example = json.load(f)
    with live_server.session() as s:
        owner = actor_for(s.execute(select(User).where(User.username == "owner2")).scalar_one())
        p = lifecycle.create(s, owner, title="（浏览器测试）杉木造林碳汇项目", methodology_code="CCER-14-001-V01", province="福建省",
                             construction_start="2021-03-01", facts=example["project"], periods=example["periods"])
        project_id = p.id
    # A1 on cropland (eligible), A2 on forest: not eligible for afforestation (CCER-14-001-V01 §4)
    boundary = tmp_path / "parcels.geojson"
    gpd.GeoDataFrame({"parcel_id": ["A1", "A2"]}, geometry=[px(60, 20, 5, 5), px(10, 10, 2, 2)], crs=UTM).to_file(boundary)
    wrong = tmp_path / "parcels.txt"
    wrong.write_text("not a boundary")

    login(page, live_server, "owner2")
    page.goto(f"{live_server.url}/workspace/owner/projects/{project_id}")
    page.set_input_files("#boundary-file", str(wrong))
    page.select_option("#landcover", "clcd-2020.tif")
    page.click("#boundary-upload button[type=submit]")
    assert "GeoJSON" in page.inner_text("#boundary-upload .field-error")  # refused with the reason, nothing stored
    page.set_input_files("#boundary-file", str(boundary))
    page.select_option("#landcover", "clcd-2020.tif")
    page.click("#boundary-upload button[type=submit]")
    assert page.inner_text("#boundary-summary").startswith("地块合格 1/2")
    rows = page.inner_text("#parcel-issues")
    assert "A2" in rows and "forest share" in rows
    page.wait_for_selector("#boundary-map[data-parcels='2']")  # both parcels drawn by Leaflet
    colours = page.eval_on_selector_all("#boundary-map path.leaflet-interactive", "ps => ps.map(p => p.getAttribute('fill'))")
    assert sorted(colours) == ["#1f5f3a", "#d08a00"]  # one eligible (green), one ineligible (amber)
    shot(page, "owner-boundary-zh")
    switch_language(page, "en")
    assert page.inner_text("#boundary-summary").startswith("Parcels eligible 1/2")
    shot(page, "owner-boundary-en")
