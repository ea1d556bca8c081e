// Upload page: post the file to /submissions (the cookie authenticates), then show the report.
"use strict";
const $ = (id) => document.getElementById(id);
function cell(tr, text) { const td = document.createElement("td"); td.textContent = text ?? ""; tr.appendChild(td); }
$("upload-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const fd = new FormData();
  const f = $("file").files[0];
  if (!f) return;
  fd.append("file", f, f.name);
  if ($("department").value) fd.append("department", $("department").value);
  if ($("period").value) fd.append("period", $("period").value);
  if ($("confirm_replace") && $("confirm_replace").checked) fd.append("confirm_replace", "true");
  $("upload-status").textContent = "Uploading…";
  const r = await fetch("/submissions", { method: "POST", body: fd, credentials: "same-origin" });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    $("upload-status").textContent = "Rejected: " + (body.detail || r.statusText);
    $("upload-status").className = "error";
    return;
  }
  $("upload-status").className = "";
  $("upload-status").textContent = body.message || ("Stored as submission " + body.submission_id);
  const rep = await (await fetch(body.report, { credentials: "same-origin" })).json();
  const s = rep.submission;
  const summary = $("summary-table");
  summary.innerHTML = "";
  for (const k of ["submission_id", "department", "period", "version", "status", "rows_total",
                   "rows_accepted", "rows_quarantined", "rows_skipped", "pii_scrubbed"]) {
    const tr = document.createElement("tr"); cell(tr, k); cell(tr, String(s[k])); tr.dataset.key = k;
    summary.appendChild(tr);
  }
  const tb = $("issues-table").querySelector("tbody");
  tb.innerHTML = "";
  for (const i of rep.issues) { const tr = document.createElement("tr"); cell(tr, i.row); cell(tr, i.field); cell(tr, i.reason); tb.appendChild(tr); }
  $("report-csv").href = body.report + "?format=csv";
  $("report").hidden = false;
});
