// Compliance dashboard: the trend chart (uPlot), and the grid's sort, filters and keyboard moves.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // ---- trend chart
  const data = JSON.parse($("trend-data").textContent);
  const el = $("trend");
  if (window.uPlot && data.month.length) {
    const xs = data.month.map((p, i) => i);
    const label = (i) => { const p = data.month[i]; if (!p) return ""; const [y, m] = p.split("-"); return `${MON[Number(m) - 1]} ${y.slice(2)}`; };
    const width = () => Math.max(280, Math.min(900, el.clientWidth || 900));
    const plot = new uPlot({
      width: width(), height: 260,
      scales: { x: { time: false }, y: { range: (u, lo, hi) => [0, Math.max(1, hi + 1)] } },
      axes: [
        { values: (u, vals) => vals.map((v) => Number.isInteger(v) ? label(v) : ""), stroke: "#1b1b1b" },
        { label: "departments", stroke: "#1b1b1b", values: (u, vals) => vals.map((v) => Number.isInteger(v) ? String(v) : "") },
      ],
      series: [
        { label: "Month", value: (u, v) => v == null ? "" : label(v) },
        { label: "Due to share", stroke: "#4d4d4d", dash: [6, 4], width: 2 },
        { label: "Shared", stroke: "#0b4f8a", width: 2, points: { size: 6 } },
        { label: "Shared on time", stroke: "#0d6b2a", width: 3, points: { size: 7 } },
      ],
    }, [xs, data.expected, data.shared, data.on_time], el);
    el.dataset.drawn = "1";
    window.addEventListener("resize", () => plot.setSize({ width: width(), height: 260 }));
  }

  // ---- grid: filters
  const grid = $("grid");
  if (!grid) return;
  const body = grid.tBodies[0];
  const rows = Array.from(body.rows);
  function applyFilters() {
    const t = $("f-type").value, b = $("f-borough").value, s = $("f-status").value;
    let n = 0;
    for (const r of rows) {
      const show = (!t || r.dataset.type === t) && (!b || r.dataset.borough === b) &&
        (!s || (s === "inconsistent" ? r.dataset.consistent === "no" : r.dataset.latest === s));
      r.hidden = !show;
      if (show) n += 1;
    }
    $("grid-count").textContent = n === 1 ? "1 department shown" : `${n} departments shown`;
  }
  for (const id of ["f-type", "f-borough", "f-status"]) $(id).addEventListener("change", applyFilters);

  // ---- grid: sort by any column header (a second press reverses)
  const RANK = { red: 0, amber: 1, green: 2, grey: 3 };
  const heads = Array.from(grid.tHead.rows[0].cells);
  function sortKey(r, key, col) {
    if (key === "ok") return Number(r.dataset.ok);
    if (key === "type") return r.cells[col].textContent;
    if (key.startsWith("m")) return RANK[r.cells[col].dataset.rag] ?? 9;
    return (r.dataset[key] || "").toLowerCase();
  }
  heads.forEach((th, col) => {
    const btn = th.querySelector("button.sort");
    if (!btn) return;
    btn.addEventListener("click", () => {
      const dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      heads.forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", dir);
      const key = th.dataset.key;
      const sign = dir === "ascending" ? 1 : -1;
      const sorted = rows.slice().sort((a, b) => {
        const x = sortKey(a, key, col), y = sortKey(b, key, col);
        if (x < y) return -sign;
        if (x > y) return sign;
        return a.dataset.department < b.dataset.department ? -1 : 1;
      });
      for (const r of sorted) body.appendChild(r);
    });
  });

  // ---- grid: one tab stop, arrow keys move between cells (roving tabindex)
  const cells = () => rows.filter((r) => !r.hidden).map((r) => Array.from(r.querySelectorAll("td.cell")));
  let first = true;
  for (const td of grid.querySelectorAll("td.cell")) {
    td.tabIndex = first ? 0 : -1;
    first = false;
  }
  grid.addEventListener("keydown", (ev) => {
    const td = ev.target.closest && ev.target.closest("td.cell");
    if (!td) return;
    const m = cells();
    const sortedRows = Array.from(body.rows).filter((r) => !r.hidden);
    const ri = sortedRows.indexOf(td.parentElement);
    const ci = Array.from(td.parentElement.querySelectorAll("td.cell")).indexOf(td);
    const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[ev.key];
    if (!step || ri < 0 || !m.length) return;
    ev.preventDefault();
    const r2 = Math.min(Math.max(ri + step[0], 0), sortedRows.length - 1);
    const row = Array.from(sortedRows[r2].querySelectorAll("td.cell"));
    const next = row[Math.min(Math.max(ci + step[1], 0), row.length - 1)];
    if (!next) return;
    td.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
})();
