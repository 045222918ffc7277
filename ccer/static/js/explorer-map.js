// A project's boundary on its page: the parcels' GeoJSON (data-geojson) drawn with the vendored Leaflet.
// No base tiles: the platform loads nothing from the internet; the parcels and a scale are enough to read.
(function () {
  "use strict";
  var el = document.getElementById("boundary-map");
  if (!el || typeof L === "undefined") { return; }
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  L.control.scale({ imperial: false }).addTo(map);
  fetch(el.dataset.geojson, { headers: { Accept: "application/geo+json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      if (!data.features || !data.features.length) { el.textContent = el.dataset.empty || ""; return; }
      var layer = L.geoJSON(data, {
        style: { color: "#1f5f3a", weight: 2, fillOpacity: 0.25 },
        onEachFeature: function (f, l) {
          var p = f.properties || {};
          l.bindTooltip(String(p.parcel_id) + (p.area_ha != null ? " · " + Number(p.area_ha).toFixed(2) + " ha" : ""));
        }
      }).addTo(map);
      map.fitBounds(layer.getBounds(), { padding: [12, 12] });
    })
    .catch(function () { el.textContent = el.dataset.empty || ""; });
})();
