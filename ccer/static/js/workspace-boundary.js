// The owner's boundary check on a map (issue 16): the parcels' GeoJSON (data-geojson) drawn with the vendored
// Leaflet, each parcel coloured by what the GIS check found (flags: invalid, ineligible, overlap); hovering a parcel
// names it and its issues, which the table beside the map lists in full. No inline script (CSP 'self').
(function () {
  "use strict";
  var el = document.getElementById("boundary-map");
  if (!el || typeof L === "undefined") { return; }
  var COLOURS = { overlap: "#b02a2a", invalid: "#7a3db8", ineligible: "#d08a00" };
  function colour(flags) {
    for (var k in COLOURS) { if (flags.indexOf(k) >= 0) { return COLOURS[k]; } }
    return "#1f5f3a";
  }
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  L.control.scale({ imperial: false }).addTo(map);
  fetch(el.dataset.geojson, { headers: { Accept: "application/geo+json" }, credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      if (!data.features || !data.features.length) { el.textContent = el.dataset.empty || ""; return; }
      var layer = L.geoJSON(data, {
        style: function (f) {
          var c = colour((f.properties && f.properties.flags) || []);
          return { color: c, fillColor: c, weight: 2, fillOpacity: 0.35 };
        },
        onEachFeature: function (f, l) {
          var p = f.properties || {};
          var text = String(p.parcel_id) + (p.area_ha != null ? " · " + Number(p.area_ha).toFixed(2) + " ha" : "");
          if (p.issues && p.issues.length) { text += " — " + p.issues.join("; "); }
          l.bindTooltip(text);
        }
      }).addTo(map);
      map.fitBounds(layer.getBounds(), { padding: [12, 12] });
      el.dataset.parcels = String(data.features.length);  // drawn: the browser test waits for it
    })
    .catch(function () { el.textContent = el.dataset.empty || ""; });
})();
