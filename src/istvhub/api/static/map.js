// Hot-block map: borough outlines (our own boundaries) and the disclosure-controlled layer drawn
// as SVG paths. No tiles, no external requests.
"use strict";
const $ = (id) => document.getElementById(id);
const SVGNS = "http://www.w3.org/2000/svg";
let proj = null;

function makeProjection(fc) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const visit = (c) => { if (typeof c[0] === "number") { x0 = Math.min(x0, c[0]); x1 = Math.max(x1, c[0]); y0 = Math.min(y0, c[1]); y1 = Math.max(y1, c[1]); } else c.forEach(visit); };
  fc.features.forEach((f) => f.geometry && visit(f.geometry.coordinates));
  const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
  const w = (x1 - x0) * k, h = y1 - y0, s = Math.min(1000 / w, 700 / h) * 0.96;
  const ox = (1000 - w * s) / 2, oy = (700 - h * s) / 2;
  return (c) => [ox + (c[0] - x0) * k * s, oy + (y1 - c[1]) * s];
}
function pathData(geom) {
  const ring = (r, close) => r.map((c, i) => (i ? "L" : "M") + proj(c).map((v) => v.toFixed(1)).join(",")).join("") + (close ? "Z" : "");
  switch (geom.type) {
    case "LineString": return ring(geom.coordinates, false);
    case "MultiLineString": return geom.coordinates.map((r) => ring(r, false)).join("");
    case "Polygon": return geom.coordinates.map((r) => ring(r, true)).join("");
    case "MultiPolygon": return geom.coordinates.map((p) => p.map((r) => ring(r, true)).join("")).join("");
    case "Point": { const [x, y] = proj(geom.coordinates); return `M${x - 2},${y}a2,2 0 1,0 4,0a2,2 0 1,0 -4,0`; }
    default: return "";
  }
}
function colour(t) { // t in [0,1]: yellow -> red
  const r = 255, g = Math.round(220 - 200 * t), b = Math.round(60 - 60 * t);
  return `rgb(${r},${g},${b})`;
}
function params(format) {
  const p = new URLSearchParams();
  for (const k of ["from", "to", "borough", "weapon", "layer"]) if ($(k) && $(k).value) p.set(k, $(k).value);
  if ($("unsuppressed") && $("unsuppressed").checked) p.set("unsuppressed", "true");
  p.set("format", format);
  return p;
}
async function draw() {
  $("map-status").textContent = "Loading…";
  const bres = await fetch("/boundaries/boroughs.geojson", { credentials: "same-origin" });
  const bfc = await bres.json();
  const sel = $("borough").value;
  const focus = sel ? { type: "FeatureCollection", features: bfc.features.filter((f) => f.properties.name === sel) } : bfc;
  proj = makeProjection(focus.features.length ? focus : bfc);
  const gb = $("boroughs"); gb.innerHTML = "";
  for (const f of bfc.features) {
    const p = document.createElementNS(SVGNS, "path"); p.setAttribute("d", pathData(f.geometry));
    const t = document.createElementNS(SVGNS, "title"); t.textContent = f.properties.name; p.appendChild(t);
    gb.appendChild(p);
  }
  const r = await fetch("/layers/hotblocks?" + params("geojson"), { credentials: "same-origin" });
  const gh = $("hot"); gh.innerHTML = "";
  if (!r.ok) { const e = await r.json().catch(() => ({})); $("map-status").textContent = "No layer: " + (e.detail || r.statusText); return; }
  const fc = await r.json();
  const counts = fc.features.map((f) => f.properties.count).filter((c) => c != null);
  const max = Math.max(1, ...counts);
  const lines = fc.features.length && /Line/.test(fc.features[0].geometry.type);
  for (const f of fc.features) {
    const p = document.createElementNS(SVGNS, "path"); p.setAttribute("d", pathData(f.geometry));
    const c = f.properties.count;
    if (c == null) p.setAttribute("class", "suppressed");
    else if (lines) { p.setAttribute("stroke", colour(c / max)); p.setAttribute("stroke-width", String(1.5 + 4 * c / max)); p.setAttribute("fill", "none"); }
    else { p.setAttribute("fill", colour(c / max)); p.setAttribute("fill-opacity", "0.8"); p.setAttribute("stroke", "none"); }
    const t = document.createElementNS(SVGNS, "title"); t.textContent = (f.properties.name || f.properties.hex_id || "") + ": " + (c == null ? "*" : c); p.appendChild(t);
    gh.appendChild(p);
  }
  $("map").dataset.features = String(fc.features.length);
  $("map-status").textContent = fc.features.length + " features";
  const tb = $("top-table").querySelector("tbody"); tb.innerHTML = "";
  fc.features.filter((f) => f.properties.count != null).sort((a, b) => b.properties.count - a.properties.count).slice(0, 10)
    .forEach((f, i) => { const tr = document.createElement("tr"); for (const v of [i + 1, f.properties.name || f.properties.hex_id, f.properties.borough || "", f.properties.count]) { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); } tb.appendChild(tr); });
}
function updateDownloads() {
  document.querySelectorAll("a.dl").forEach((a) => { a.href = "/layers/hotblocks?" + params(a.dataset.format); });
}
$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); updateDownloads(); draw(); });
$("filters").addEventListener("change", updateDownloads);
updateDownloads();
draw();
