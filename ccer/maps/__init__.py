"""The public map of the sink projects' parcels (issue #19): vector tiles (tiles.py), the page that draws them
with MapLibre GL JS (views.py, ccer/static/js/map.js), a schematic outline of China standing in for a basemap
unless CCER_MAP_BASEMAP names one (outline.py)."""
from __future__ import annotations


def wire() -> None:
    """Nothing to register: the map reads what the projects package stores."""
