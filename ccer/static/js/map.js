// The sink projects' map (/map): vector tiles of parcels from /map/tiles/{z}/{x}/{y}.pbf over a basemap from
// the configuration or, without one, the vendored schematic outline of China. No inline script: every
// setting comes from the data attributes of #map (a strict Content-Security-Policy is coming).
import { Map, NavigationControl, Popup, setWorkerUrl } from "../vendor/maplibre-gl/maplibre-gl.mjs";

const el = document.getElementById("map");
const cfg = el.dataset;
setWorkerUrl(cfg.worker);

function style() {
  const origin = window.location.origin;
  const sources = {
    parcels: { type: "vector", tiles: [origin + cfg.tiles], minzoom: 2, maxzoom: 16 },
    outline: { type: "geojson", data: cfg.outline },
  };
  const layers = [{ id: "background", type: "background", paint: { "background-color": "#eef3f7" } }];
  const base = cfg.basemap || "";
  if (base && !base.endsWith(".json")) {
    sources.basemap = { type: "raster", tiles: [base], tileSize: 256 };
    layers.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  layers.push(
    { id: "outline-fill", type: "fill", source: "outline", paint: { "fill-color": "#ffffff", "fill-opacity": base ? 0 : 0.9 } },
    { id: "outline-line", type: "line", source: "outline", paint: { "line-color": "#7a8793", "line-width": 1 } },
    { id: "projects-fill", type: "fill", source: "parcels", "source-layer": "projects", maxzoom: 12,
      paint: { "fill-color": "#2e7d32", "fill-opacity": 0.35, "fill-outline-color": "#1b5e20" } },
    { id: "parcels-fill", type: "fill", source: "parcels", "source-layer": "parcels",
      paint: { "fill-color": "#2e7d32", "fill-opacity": 0.45 } },
    { id: "parcels-line", type: "line", source: "parcels", "source-layer": "parcels",
      paint: { "line-color": "#1b5e20", "line-width": 0.6 } },
  );
  if (cfg.reviewer === "yes") {
    layers.push(
      { id: "flagged", type: "line", source: "parcels", "source-layer": "parcels", filter: ["has", "flags"],
        paint: { "line-color": "#c62828", "line-width": 2 } },
      { id: "overlaps", type: "fill", source: "parcels", "source-layer": "overlaps",
        paint: { "fill-color": "#ff6f00", "fill-opacity": 0.8 } },
    );
  }
  return { version: 8, sources, layers };
}

const map = new Map({ container: el, style: style(), center: [108, 33], zoom: 3.4, maxZoom: 18, hash: true });
map.addControl(new NavigationControl({ showCompass: false }));
if ((cfg.basemap || "").endsWith(".json")) {
  // a MapLibre style as the basemap: its layers under ours
  fetch(cfg.basemap).then((r) => r.json()).then((s) => {
    for (const [name, src] of Object.entries(s.sources || {})) map.addSource("base-" + name, src);
    for (const layer of s.layers || []) {
      const l = { ...layer, id: "base-" + layer.id };
      if (layer.source) l.source = "base-" + layer.source;
      map.addLayer(l, "outline-fill");
    }
  });
}

function text(s) {
  const span = document.createElement("span");
  span.textContent = s;
  return span.innerHTML;
}

for (const layer of ["projects-fill", "parcels-fill", "overlaps"]) {
  map.on("click", layer, (e) => {
    const p = e.features[0].properties;
    let html = `${text(cfg.labelProject)} ${text(String(p.project_id))}`;
    if (p.parcel_id) html += ` · ${text(cfg.labelParcel)} ${text(p.parcel_id)}`;
    if (p.parcels) html += ` · ${text(cfg.labelParcels)} ${text(String(p.parcels))}`;
    if (p.flags) html += `<br>${text(cfg.labelFlags)}: ${text(p.flags)}`;
    if (p.other_project) html += `<br>${text(cfg.labelOverlap)}: ${text(String(p.other_project))} / ${text(p.other_parcel_id)}`;
    new Popup().setLngLat(e.lngLat).setHTML(html).addTo(map);
  });
}
