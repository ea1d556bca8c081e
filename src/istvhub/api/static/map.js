// Hot-block map: MapLibre GL JS (vendored, CSP build) over a basemap the hub draws from its own
// gazetteer (/basemap/*.geojson), the disclosure-controlled layer (/map/units.geojson) on a
// stated colour scale, and the selection's day x time grid and trend (/map/profile, uPlot).
// No tiles, no fonts, no requests outside the hub: labels are HTML markers.
"use strict";
const $ = (id) => document.getElementById(id);
const form = $("filters");
const ROLE = form.dataset.role;
const OWN = (form.dataset.own || "").split("|").filter(Boolean);
const WORDS = {};
for (const sel of ["weapon", "location_type", "hours"]) {
  WORDS[sel] = Object.fromEntries([...$(sel).options].map((o) => [o.value, o.textContent.trim()]));
}
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];
// The colour scale: published counts are multiples of 5 from 10 up (1-7 are never listed).
const BREAKS = [10, 20, 40, 80];
const COLOURS = ["#fed976", "#feb24c", "#fd8d3c", "#e31a1c", "#800026"];
const CLASS_LABELS = ["10", "15 to 20", "25 to 40", "45 to 80", "85 or more"];
const LAYER_WORDS = { blocks: "street blocks", hexes: "H3 hexagons", lsoa: "neighbourhoods (LSOAs)" };

maplibregl.setWorkerUrl("/static/vendor/maplibre-gl/maplibre-gl-csp-worker.js");
const EMPTY = { type: "FeatureCollection", features: [] };
let map = null;
let mapReady = null;
let labels = [];
let basemapKey = null;
let lastUnits = EMPTY;
let drawSeq = 0;

function monthWords(ym) {
  if (!ym) return "";
  const [y, m] = ym.split("-");
  return `${MONTHS[Number(m) - 1]} ${y}`;
}
function selectedDays() {
  return [...form.querySelectorAll("input[name=days]:checked")].map((c) => c.value);
}
function params(extra) {
  const p = new URLSearchParams();
  for (const k of ["from", "to", "borough", "weapon", "location_type", "hours"]) if ($(k).value) p.set(k, $(k).value);
  const d = selectedDays();
  if (d.length) p.set("days", d.join(","));
  if ($("unsuppressed") && $("unsuppressed").checked) p.set("unsuppressed", "true");
  for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
  return p;
}
function selectionWords() {
  const parts = [`${monthWords($("from").value)} to ${monthWords($("to").value)}`];
  parts.push($("borough").value || (ROLE === "csp_analyst" ? OWN.join(", ") : "all of London"));
  parts.push($("weapon").value ? WORDS.weapon[$("weapon").value] : "any weapon");
  parts.push($("location_type").value ? WORDS.location_type[$("location_type").value] : "any place");
  parts.push($("hours").value ? WORDS.hours[$("hours").value] : "any time");
  const d = selectedDays();
  parts.push(d.length ? d.map((x) => x[0].toUpperCase() + x.slice(1)).join(", ") : "every day");
  return parts.join(" · ");
}
function showPeriod() {
  $("period-line").textContent = "Period: " + selectionWords();
  const b = $("unsuppressed-banner");
  if (b) b.hidden = !($("unsuppressed") && $("unsuppressed").checked);
}
// The layer as one fill and one line layer per colour class (a constant colour each, so they
// share the basemap's shader programs), then the areas' outlines.
const UNIT_FILLS = COLOURS.map((_, i) => `units-fill-${i}`);
const UNIT_LINES = COLOURS.map((_, i) => `units-line-${i}`);
function classFilter(i, geom) {
  const c = ["coalesce", ["get", "count"], 0];
  const f = ["all", ["==", ["geometry-type"], geom]];
  if (i > 0) f.push([">=", c, BREAKS[i - 1] + 0.5]);
  if (i < BREAKS.length) f.push(["<", c, BREAKS[i] + 0.5]);
  return f;
}
function unitLayers() {
  const fills = COLOURS.map((col, i) => ({ id: UNIT_FILLS[i], type: "fill", source: "units", filter: classFilter(i, "Polygon"), paint: { "fill-color": col, "fill-opacity": 0.75, "fill-antialias": false } }));
  const outline = { id: "units-outline", type: "line", source: "units", filter: ["==", ["geometry-type"], "Polygon"], paint: { "line-color": "#5a3a00", "line-width": 0.7 } };
  const lines = COLOURS.map((col, i) => ({ id: UNIT_LINES[i], type: "line", source: "units", filter: classFilter(i, "LineString"), layout: { "line-cap": "round" }, paint: { "line-color": col, "line-width": ["interpolate", ["linear"], ["zoom"], 11, 2.5, 15, 7, 18, 14] } }));
  return [...fills, outline, ...lines];
}
async function getJSON(url) {
  const r = await fetch(url, { credentials: "same-origin" });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    const d = body && body.detail;
    const msg = typeof d === "string" ? d : (Array.isArray(d) ? d.map((x) => x.msg).join("; ") : r.statusText);
    throw new Error(msg);
  }
  return body;
}

function initMap() {
  map = new maplibregl.Map({
    container: "map",
    style: {
      version: 8,
      sources: {
        // smaller tile buffers and more simplification: less tiling work in the worker; no
        // tiles finer than the data (London's outlines and roads are simplified to 15-40 m, a
        // pixel at zoom 12; the borough's streets to 2 m, a pixel at zoom 15): deeper zooms
        // overscale those tiles instead of cutting new ones
        london: { type: "geojson", data: EMPTY, buffer: 32, tolerance: 0.8, maxzoom: 12 },
        local: { type: "geojson", data: EMPTY, buffer: 32, tolerance: 0.6, maxzoom: 15 },
        units: { type: "geojson", data: EMPTY, promoteId: "uid" },
      },
      // Few shader programs: on a CPU renderer (SwiftShader) compiling one costs 0.1-0.3 s and
      // a first draw compiled seven. So every colour and width is a constant or a zoom function
      // (a data-driven one is a program of its own): one fill and one line program in all, plus
      // MapLibre's tile clipping mask; no background layer (the container's CSS colour shows
      // through), no fill outlines or dashes (each their own program): outlines are line layers.
      layers: [
        { id: "london-fill", type: "fill", source: "london", filter: ["==", ["get", "kind"], "borough"], paint: { "fill-color": "#fbfaf7", "fill-antialias": false } },
        { id: "own-fill", type: "fill", source: "london", filter: ["in", ["get", "name"], ["literal", []]], paint: { "fill-color": "#dce7f3", "fill-opacity": 0.55, "fill-antialias": false } },
        { id: "no-net-fill", type: "fill", source: "london", filter: ["all", ["==", ["get", "kind"], "borough"], ["==", ["get", "has_network"], false]], paint: { "fill-color": "#e6e1d6", "fill-opacity": 0.7, "fill-antialias": false } },
        { id: "parks", type: "fill", source: "local", filter: ["==", ["get", "kind"], "park"], paint: { "fill-color": "#cfe6c4", "fill-antialias": false } },
        { id: "water", type: "fill", source: "local", filter: ["==", ["get", "kind"], "water"], paint: { "fill-color": "#a9cbe8", "fill-antialias": false } },
        { id: "london-water", type: "fill", source: "london", filter: ["==", ["get", "kind"], "water"], paint: { "fill-color": "#a9cbe8", "fill-antialias": false } },
        { id: "lsoa-lines", type: "line", source: "local", minzoom: 12, filter: ["==", ["get", "kind"], "lsoa"], paint: { "line-color": "#9a8f80", "line-width": 0.6, "line-opacity": 0.8 } },
        // minor streets from zoom 13: a whole borough fits at 12-13.5, where they are a 1 px mesh;
        // the zoom-12 tiles of its first view then carry only the main and through roads
        { id: "streets-minor", type: "line", source: "local", minzoom: 13, filter: ["all", ["==", ["get", "kind"], "street"], [">=", ["get", "rank"], 2]], paint: { "line-color": "#ffffff", "line-width": ["interpolate", ["linear"], ["zoom"], 13, 1, 17, 6] } },
        { id: "streets-casing", type: "line", source: "local", filter: ["all", ["==", ["get", "kind"], "street"], ["<", ["get", "rank"], 2]], paint: { "line-color": "#c9c2b4", "line-width": ["interpolate", ["linear"], ["zoom"], 11, 1.5, 17, 11] } },
        { id: "streets-through", type: "line", source: "local", filter: ["all", ["==", ["get", "kind"], "street"], ["==", ["get", "rank"], 1]], paint: { "line-color": "#ffffff", "line-width": ["interpolate", ["linear"], ["zoom"], 11, 0.8, 17, 8] } },
        { id: "streets-main", type: "line", source: "local", filter: ["all", ["==", ["get", "kind"], "street"], ["==", ["get", "rank"], 0]], paint: { "line-color": "#fce4b0", "line-width": ["interpolate", ["linear"], ["zoom"], 11, 0.8, 17, 8] } },
        { id: "london-roads", type: "line", source: "london", maxzoom: 12.5, filter: ["==", ["get", "kind"], "street"], paint: { "line-color": "#e0c98f", "line-width": 0.8 } },
        { id: "borough-lines", type: "line", source: "london", filter: ["==", ["get", "kind"], "borough"], paint: { "line-color": "#6b6b6b", "line-width": 1 } },
        { id: "own-line", type: "line", source: "london", filter: ["in", ["get", "name"], ["literal", []]], paint: { "line-color": "#12355b", "line-width": 3 } },
        ...unitLayers(),
        { id: "units-hl", type: "line", source: "units", filter: ["==", ["get", "uid"], ""], paint: { "line-color": "#000", "line-width": 3 } },
      ],
    },
    bounds: [[-0.51, 51.28], [0.34, 51.70]],
    fitBoundsOptions: { padding: 10 },
    attributionControl: false,
    keyboard: true,
    fadeDuration: 0,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  map.addControl(new maplibregl.AttributionControl({ compact: true, customAttribution: "Basemap from the hub's gazetteer: © OpenStreetMap contributors (ODbL); boundaries OGL v3 (GLA/ONS/OS)" }));
  map.getCanvas().setAttribute("aria-label", "Map. Arrow keys pan, plus and minus zoom.");
  map.on("zoomend", placeLabels);
  map.on("moveend", placeLabels);
  for (const id of [...UNIT_FILLS, ...UNIT_LINES]) {
    map.on("click", id, (e) => openPopup(e.features[0], e.lngLat));
    map.on("mouseenter", id, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", id, () => { map.getCanvas().style.cursor = ""; });
  }
  mapReady = new Promise((resolve) => map.on("load", () => { $("map").dataset.loadMs = String(Math.round(performance.now())); resolve(); }));
  window.istvMap = map; // for the browser tests
}

function popupHTML(p) {
  const layer = lastUnits.properties ? lastUnits.properties.layer : "blocks";
  const rows = [];
  let title = "";
  if (p.block_id) {
    title = p.name && p.name !== "(unnamed)" ? p.name : "Unnamed street";
    rows.push(["Borough", p.borough || ""], ["Length", `${Math.round(p.length_m)} m`]);
  } else if (p.hex_id) {
    title = `H3 hexagon in ${p.borough || "?"}`;
    rows.push(["Cell", p.hex_id]);
  } else {
    title = p.lsoa21_name || p.lsoa_name || p.lsoa21_code || p.lsoa_code || "Area";
    rows.push(["Borough", p.borough || ""], ["Code", p.lsoa21_code || p.lsoa_code || ""]);
  }
  rows.push(["Incidents", p.count == null ? "suppressed (1 to 7)" : String(p.count)]);
  rows.push(["Rank", `${p.rank} of ${lastUnits.features.length} listed ${LAYER_WORDS[layer] || layer}`]);
  if (p.rate_per_100m != null) rows.push(["Per 100 m of street", String(p.rate_per_100m)]);
  if (p.share != null) rows.push(["Share of the selection", `${p.share}%`]);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  return `<p class="pop-title">${esc(title)}</p><table>${rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>`;
}
let popup = null;
function openPopup(feature, lngLat) {
  if (popup) popup.remove();
  popup = new maplibregl.Popup({ maxWidth: "320px", focusAfterOpen: true }).setLngLat(lngLat).setHTML(popupHTML(feature.properties)).addTo(map);
  popup.getElement().id = "unit-popup";
  map.setFilter("units-hl", ["==", ["get", "uid"], feature.properties.uid || ""]);
}

function bboxOf(geom) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const visit = (c) => { if (typeof c[0] === "number") { x0 = Math.min(x0, c[0]); x1 = Math.max(x1, c[0]); y0 = Math.min(y0, c[1]); y1 = Math.max(y1, c[1]); } else c.forEach(visit); };
  visit(geom.coordinates);
  return [[x0, y0], [x1, y1]];
}

// Every fetch starts at once, in parallel with MapLibre's start-up (WebGL context, shaders);
// the data is handed to the sources only once the style has loaded.
let londonP = null;
function fetchLondon() {
  if (!londonP) londonP = getJSON("/basemap/london.geojson");
  return londonP;
}
const localCache = new Map();
function fetchLocal(borough) {
  if (!borough) return Promise.resolve(EMPTY);
  if (!localCache.has(borough)) {
    const pr = getJSON(`/basemap/${encodeURIComponent(borough)}.geojson`);
    pr.catch(() => localCache.delete(borough));
    localCache.set(borough, pr);
  }
  return localCache.get(borough);
}
let londonSet = false;
async function londonBasemap() {
  const london = await fetchLondon();
  await mapReady;
  if (!londonSet) { map.getSource("london").setData(london); londonSet = true; }
  return london;
}
function hasNetwork(london, borough) {
  const f = london.features.find((x) => x.properties.kind === "borough" && x.properties.name === borough);
  return !f || f.properties.has_network;
}
async function loadBasemap(borough, london, localP) {
  const key = borough || "london";
  const highlight = borough ? [borough] : OWN;
  const f = ["in", ["get", "name"], ["literal", highlight]];
  const local = await localP;
  await mapReady;
  map.setFilter("own-fill", ["all", ["==", ["get", "kind"], "borough"], f]);
  map.setFilter("own-line", ["all", ["==", ["get", "kind"], "borough"], f]);
  map.getSource("local").setData(local);
  if (key !== basemapKey) {
    const bb = (local.properties || london.properties).bbox;
    map.fitBounds([[bb[0], bb[1]], [bb[2], bb[3]]], { padding: 20, animate: false });
    basemapKey = key;
  }
  labels.forEach((l) => { if (l.marker) l.marker.remove(); });
  // only the labels' points here: a marker (a DOM element) is made the first time its label
  // is shown, so a borough's few hundred street labels cost nothing before the first draw
  labels = [...london.features, ...local.features].filter((x) => x.properties.kind === "label")
    .map((x) => ({ at: x.geometry.coordinates, name: x.properties.name, cls: x.properties.class, rank: x.properties.rank, marker: null, on: false }));
  placeLabels();
  return { london, local };
}
function labelMarker(l) {
  const el = document.createElement("div");
  el.className = "lbl " + l.cls;
  el.textContent = l.name;
  el.setAttribute("aria-hidden", "true");
  el.tabIndex = -1; // labels are not tab stops (MapLibre gives markers tabindex 0 otherwise)
  return new maplibregl.Marker({ element: el }).setLngLat(l.at);
}
function placeLabels() {
  const z = map.getZoom();
  const b = map.getBounds();
  for (const l of labels) {
    const show = (l.cls === "borough" && z < 12.3) || ((l.cls === "place" || l.cls === "park") && z >= 12.3)
      || (l.cls === "station" && z >= 14) || (l.cls === "street" && (l.rank === 0 ? z >= 14 : z >= 15.5));
    const inView = show && b.contains(l.at);
    if (inView && !l.on) {
      if (!l.marker) l.marker = labelMarker(l);
      l.marker.addTo(map); l.marker.getElement().removeAttribute("aria-label"); l.on = true;
    }
    if (!inView && l.on) { l.marker.remove(); l.on = false; }
  }
}

function legend(rule, layer, n) {
  const el = $("legend");
  const what = layer === "blocks" ? "Incidents on the street block" : "Incidents in the area";
  el.innerHTML = "";
  const h = document.createElement("p"); h.className = "lg-title"; h.textContent = what; el.appendChild(h);
  COLOURS.forEach((c, i) => {
    const d = document.createElement("div");
    const s = document.createElement("span"); s.className = "sw"; s.style.background = c; d.appendChild(s);
    d.appendChild(document.createTextNode(CLASS_LABELS[i])); el.appendChild(d);
  });
  const d = document.createElement("div");
  const s = document.createElement("span"); s.className = "sw"; s.style.background = "transparent"; d.appendChild(s);
  d.appendChild(document.createTextNode("No colour: none, or 1 to 7 (suppressed)")); el.appendChild(d);
  el.dataset.units = String(n);
}

function noNetworkNotice(borough, hasNetwork, share) {
  const el = $("no-network");
  if (borough && hasNetwork && share != null) {  // issue 13: a network over part of the borough
    el.hidden = false;
    el.textContent = `Only ${Math.round(share * 100)}% of ${borough}'s postcodes lie near a street of this gazetteer's network, so records elsewhere in it are not put on blocks. A full OpenStreetMap extract (Geofabrik's greater-london-latest.osm.pbf) given to the gazetteer build fills the gap.`;
    return false;
  }
  if (!borough || hasNetwork) { el.hidden = true; el.textContent = ""; return false; }
  el.hidden = false;
  el.textContent = `${borough} has no street network in this gazetteer, so incidents cannot be put on street blocks: ` +
    "shown as H3 hexagons instead. A full OpenStreetMap extract of London (Geofabrik's greater-london-latest.osm.pbf) " +
    "given to the gazetteer build fills the gap.";
  return true;
}

async function draw() {
  const seq = ++drawSeq;
  const t0 = performance.now();
  showPeriod();
  updateDownloads();
  $("map-status").textContent = "Loading…";
  const borough = $("borough").value || (OWN.length === 1 ? OWN[0] : "");
  let layer = $("layer").value;
  // start every fetch now: London's basemap, the borough's, the layer (and, if the borough
  // turns out to have no street network, the hexagons) and the profile
  const londonP0 = fetchLondon();
  const localP = fetchLocal(borough);
  localP.catch(() => {});
  const unitsP = {};
  const units = (lay) => { if (!unitsP[lay]) { unitsP[lay] = getJSON("/map/units.geojson?" + params({ layer: lay })); unitsP[lay].catch(() => {}); } return unitsP[lay]; };
  units(layer);
  drawProfile(seq);
  let london;
  try { await londonP0; london = await londonBasemap(); } catch (e) { $("map-status").textContent = "Basemap unavailable: " + e.message; return; }
  if (seq !== drawSeq) return;
  const fallback = noNetworkNotice(borough, hasNetwork(london, borough), (london.properties.boroughs_partly_covered || {})[borough]) && layer === "blocks";
  if (fallback) layer = "hexes";
  const baseP = loadBasemap(borough, london, localP).catch((e) => { $("map-status").textContent = "Basemap unavailable: " + e.message; });
  let fc;
  try {
    fc = await units(layer);
    await baseP;
  } catch (e) {
    if (seq !== drawSeq) return;
    map.getSource("units").setData(EMPTY);
    lastUnits = EMPTY;
    $("map-status").textContent = e.message;
    $("map").dataset.features = "0";
    fillTop(EMPTY);
    return;
  }
  if (seq !== drawSeq) return;
  fc.features.forEach((f, i) => { f.properties.uid = f.properties.block_id || f.properties.hex_id || f.properties.lsoa21_code || f.properties.lsoa_code || String(i); });
  lastUnits = fc;
  map.getSource("units").setData(fc);
  $("map").dataset.dataMs = String(Math.round(performance.now())); // data in hand; idle = drawn
  if (popup) popup.remove();
  legend(null, layer, fc.features.length);
  const n = fc.features.length;
  const sel = selectionWords();
  $("map-status").textContent = n
    ? `${n} ${LAYER_WORDS[layer]} with 8 or more incidents${fallback ? " (hexagons: this borough has no street network)" : ""}.`
    : `No ${LAYER_WORDS[layer]} had 8 or more incidents for ${sel}. Try a longer period or fewer filters.`;
  $("map").dataset.features = String(n);
  $("map").dataset.layer = layer;
  fillTop(fc);
  map.once("idle", () => {
    if (seq !== drawSeq) return;
    $("map").dataset.drawMs = String(Math.round(performance.now() - t0));
    $("map").dataset.sincePageMs = String(Math.round(performance.now()));
    $("map").dataset.drawn = String(seq);
  });
  map.triggerRepaint();
}

function fillTop(fc) {
  const tb = $("top-table").querySelector("tbody");
  tb.innerHTML = "";
  fc.features.slice().sort((a, b) => a.properties.rank - b.properties.rank).slice(0, 10).forEach((f) => {
    const p = f.properties;
    const tr = document.createElement("tr");
    tr.tabIndex = 0;
    const name = p.block_id ? (p.name || "Unnamed street") : p.hex_id ? `H3 hexagon ${p.hex_id.slice(-6)}` : (p.lsoa21_name || p.lsoa_name || p.lsoa21_code || p.lsoa_code);
    for (const v of [p.rank, name, p.borough || "", p.count == null ? "*" : p.count, p.rate_per_100m == null ? "" : p.rate_per_100m]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    const go = () => {
      const bb = bboxOf(f.geometry);
      map.fitBounds(bb, { padding: 80, maxZoom: 16, animate: false });
      openPopup(f, [(bb[0][0] + bb[1][0]) / 2, (bb[0][1] + bb[1][1]) / 2]);
    };
    tr.addEventListener("click", go);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
    tb.appendChild(tr);
  });
}

const HEAT = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6"];
let trendPlot = null;
async function drawProfile(seq) {
  const p = params();
  let prof;
  try { prof = await getJSON("/map/profile?" + p); } catch (e) {
    if (seq !== drawSeq) return;
    $("heat-note").textContent = e.message; $("trend-note").textContent = e.message; return;
  }
  if (seq !== drawSeq) return;
  $("rule-line").textContent = "Disclosure control, the same for the map, the grid and the trend: " + prof.rule_label +
    ". Counts are perturbed (cell key) then rounded; a unit or cell with 1 to 7 incidents is shown as * or left uncoloured, like one with none.";
  $("heat-note").textContent = prof.grid_note;
  const heat = $("heat");
  const thead = heat.querySelector("thead"), tbody = heat.querySelector("tbody");
  thead.innerHTML = ""; tbody.innerHTML = "";
  heat.dataset.ready = prof.grid ? "1" : "0";
  if (prof.grid) {
    const hr = document.createElement("tr");
    hr.appendChild(Object.assign(document.createElement("th"), { textContent: "Day" }));
    prof.bands.forEach((b) => { const th = document.createElement("th"); th.scope = "col"; th.textContent = b.replace("-", "–"); hr.appendChild(th); });
    thead.appendChild(hr);
    const vals = prof.grid.flat().filter((v) => v != null);
    const max = Math.max(1, ...vals);
    const hours = $("hours").value ? $("hours").value.split("-").map(Number) : null;
    const days = selectedDays();
    const dayKeys = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    prof.grid.forEach((row, d) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th"); th.scope = "row"; th.textContent = prof.days[d]; tr.appendChild(th);
      row.forEach((v, b) => {
        const td = document.createElement("td");
        td.textContent = v == null ? "*" : String(v);
        td.title = `${prof.days[d]} ${prof.bands[b]}: ${v == null ? "1 to 7 (suppressed)" : v + " incidents"}`;
        td.style.background = v == null || v === 0 ? "#ffffff" : HEAT[Math.min(4, Math.floor((v / max) * 4.999))];
        const a = b * 3;
        const inHours = !hours || (hours[0] < hours[1] ? a + 3 > hours[0] && a < hours[1] : a + 3 > hours[0] || a < hours[1]);
        if ((hours || days.length) && inHours && (!days.length || days.includes(dayKeys[d]))) td.className = "sel";
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
  }
  $("trend-note").textContent = prof.trend_note;
  const tt = $("trend-table").querySelector("tbody"); tt.innerHTML = "";
  prof.periods.forEach((per, i) => {
    const tr = document.createElement("tr");
    for (const v of [per, prof.trend[i] == null ? "* (1 to 7)" : prof.trend[i]]) { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); }
    tt.appendChild(tr);
  });
  $("trend").dataset.points = String(prof.periods.length);
  const xs = prof.periods.map((_, i) => i);
  const opts = {
    width: Math.max(280, $("trend").clientWidth || 500), height: 220,
    scales: { x: { time: false } },
    axes: [{ values: (u, ticks) => ticks.map((t) => (prof.periods[t] || "").replace("..", "–")), stroke: "#333" }, { stroke: "#333" }],
    series: [{}, { label: "Incidents", stroke: "#c0392b", width: 2, points: { show: true, size: 6 }, spanGaps: false }],
    legend: { show: false },
  };
  if (trendPlot) trendPlot.destroy();
  $("trend").innerHTML = "";
  trendPlot = new uPlot(opts, [xs, prof.trend], $("trend"));
}

function updateDownloads() {
  document.querySelectorAll("a.dl").forEach((a) => {
    const p = params({ format: a.dataset.format, layer: $("layer").value });
    a.href = "/layers/hotblocks?" + p;
  });
}
// a link may carry the selection: /map?borough=Camden&layer=hexes&from=2025-01&to=2025-06
function fromURL() {
  const q = new URLSearchParams(location.search);
  for (const k of ["from", "to", "borough", "weapon", "location_type", "hours", "layer"]) {
    const v = q.get(k);
    if (v != null && [...($(k).options || [])].every((o) => o.value !== v) && $(k).tagName === "SELECT") continue;
    if (v != null) $(k).value = v;
  }
  const days = (q.get("days") || "").split(",");
  form.querySelectorAll("input[name=days]").forEach((c) => { c.checked = days.includes(c.value); });
}
fromURL();
form.addEventListener("submit", (ev) => { ev.preventDefault(); draw(); });
form.addEventListener("change", () => { updateDownloads(); showPeriod(); });
try {
  initMap();
  draw();
} catch (e) {
  $("map-status").textContent = "The map cannot be drawn in this browser (it needs WebGL): " + e.message;
  showPeriod();
  drawProfile(++drawSeq);
}
