// Upload page: post the file to /submissions (the cookie authenticates), show what happened in
// plain words, then refresh the submissions list (paged here, never silently cut).
"use strict";
const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 20;
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];
// what each figure of the ingest summary means, in the words of the person who uploaded it
const LABELS = [
  ["department", "Department"],
  ["period", "Month"],
  ["version", "Version"],
  ["rows_total", "Rows in the file"],
  ["rows_accepted", "Records stored"],
  ["rows_quarantined", "Rows set aside (not stored, listed below)"],
  ["rows_skipped", "Rows skipped (blank or totals)"],
  ["pii_scrubbed", "Personal details removed before storing"],
  ["geocoded", "Places found on the map"],
];
const STATUS_WORDS = { current: "current version", superseded: "replaced by a later version" };
let subs = [];
let page = 0;
let acceptedMapping = null; // a held file's mapping, accepted on the page (issue 17)

function cell(tr, text) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  tr.appendChild(td);
  return td;
}
function monthWords(p) {
  const m = /^(\d{4})-(\d{2})$/.exec(p || "");
  return m ? `${MONTHS[Number(m[2]) - 1]} ${m[1]}` : (p || "");
}
function dayWords(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getDate()} ${MONTHS[d.getMonth()].slice(0, 3)} ${d.getFullYear()} ` +
    `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}
function say(text, kind) {
  const s = $("upload-status");
  s.textContent = text;
  s.className = kind || "";
}
function errorText(status, body) {
  // the API names its form field; on this page that field is the "Replace the month" tick
  const d = body && typeof body.detail === "string"
    ? body.detail.replace("confirm_replace=true", "the “Replace the month” tick ticked")
    : body && body.detail;
  if (Array.isArray(d)) return d.map((e) => e.msg).join("; ");
  if (status === 409) return (d || "This file would replace the month.") +
    " Tick “Replace the month” and upload again if that is what you want.";
  if (status === 413) return "The file is too large to upload.";
  if (status === 401) return "Your sign-in has expired: sign in again.";
  return d || "The upload failed.";
}

async function showReport(url, summary) {
  const r = await fetch(url, { credentials: "same-origin" });
  if (!r.ok) return;
  const rep = await r.json();
  const s = { ...rep.submission, geocoded: summary ? summary.geocoded : undefined };
  const tb = $("summary-table").querySelector("tbody");
  tb.innerHTML = "";
  for (const [k, label] of LABELS) {
    if (s[k] === undefined || s[k] === null) continue;
    const tr = document.createElement("tr");
    tr.dataset.key = k;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = label;
    tr.appendChild(th);
    cell(tr, k === "period" ? monthWords(s[k]) : String(s[k]));
    tb.appendChild(tr);
  }
  const issues = rep.issues || [];
  const it = $("issues-table").querySelector("tbody");
  it.innerHTML = "";
  for (const i of issues) {
    const tr = document.createElement("tr");
    cell(tr, i.row);
    cell(tr, i.field);
    cell(tr, i.reason);
    it.appendChild(tr);
  }
  $("no-problems").hidden = issues.length > 0;
  $("issues").hidden = issues.length === 0;
  $("issues-intro").textContent = issues.length === 1 ? "One row needs a look:" :
    `${issues.length} rows need a look:`;
  $("report-csv").href = url + "?format=csv";
  $("report").hidden = false;
}

function drawSubs() {
  const tb = $("submissions-table").querySelector("tbody");
  tb.innerHTML = "";
  const pages = Math.max(1, Math.ceil(subs.length / PAGE_SIZE));
  page = Math.min(Math.max(page, 0), pages - 1);
  for (const s of subs.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)) {
    const tr = document.createElement("tr");
    tr.dataset.submission = s.submission_id;
    cell(tr, s.department);
    cell(tr, monthWords(s.period));
    cell(tr, s.version);
    cell(tr, dayWords(s.received_at));
    cell(tr, s.source_filename);
    cell(tr, s.rows_accepted);
    cell(tr, s.rows_quarantined);
    cell(tr, STATUS_WORDS[s.status] || s.status);
    const td = cell(tr, "");
    const view = document.createElement("button");
    view.type = "button";
    view.className = "link";
    view.textContent = "Show";
    view.setAttribute("aria-label", `Show the report of ${s.department} ${monthWords(s.period)} version ${s.version}`);
    view.addEventListener("click", () => showReport(s.report));
    td.appendChild(view);
    td.appendChild(document.createTextNode(" · "));
    const a = document.createElement("a");
    a.href = s.report + "?format=csv";
    a.textContent = "CSV";
    a.setAttribute("aria-label", `Report of ${s.department} ${monthWords(s.period)} version ${s.version} as CSV`);
    td.appendChild(a);
    tb.appendChild(tr);
  }
  const first = subs.length ? page * PAGE_SIZE + 1 : 0;
  const last = Math.min(subs.length, (page + 1) * PAGE_SIZE);
  $("subs-count").textContent = subs.length
    ? `${subs.length} submission${subs.length === 1 ? "" : "s"}, newest first; showing ${first}–${last}.`
    : "No submissions yet.";
  $("subs-page").textContent = `Page ${page + 1} of ${pages}`;
  $("subs-prev").disabled = page === 0;
  $("subs-next").disabled = page >= pages - 1;
}

async function loadSubs() {
  const r = await fetch("/submissions", { credentials: "same-origin" });
  if (!r.ok) { $("subs-count").textContent = "Could not load your submissions."; return; }
  subs = (await r.json()).sort((a, b) => b.submission_id - a.submission_id);
  drawSubs();
}

$("subs-prev").addEventListener("click", () => { page -= 1; drawSubs(); });
$("subs-next").addEventListener("click", () => { page += 1; drawSubs(); });

$("upload-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = $("file").files[0];
  if (!f) return;
  const fd = new FormData();
  fd.append("file", f, f.name);
  if ($("department").value) fd.append("department", $("department").value);
  if ($("period").value) fd.append("period", $("period").value);
  if ($("confirm_replace").checked) fd.append("confirm_replace", "true");
  if (acceptedMapping !== null) fd.append("mapping", acceptedMapping);
  acceptedMapping = null;
  say("Uploading and checking " + f.name + "…");
  $("upload-button").disabled = true;
  try {
    const r = await fetch("/submissions", { method: "POST", body: fd, credentials: "same-origin" });
    const body = await r.json().catch(() => ({}));
    if (r.status === 422 && body.status === "needs_mapping") {
      say("Held, not stored: " + body.detail, "error");
      $("mapping-intro").textContent = "We could not tell which column holds: " +
        (body.missing_items || []).join(", ").replaceAll("_", " ") + ". Give each a column " +
        "below, or list it under absent if your file does not have it, then accept.";
      $("mapping-text").value = body.proposed_mapping || "";
      $("mapping").hidden = false;
      $("report").hidden = true;
      return;
    }
    $("mapping").hidden = true;
    if (!r.ok) {
      say("Not stored: " + errorText(r.status, body), "error");
      $("report").hidden = true;
      return;
    }
    if (body.status === "unchanged") {
      // nothing new was stored: say so, and show the version it is identical to
      say(body.message || "This file is identical to the current version; nothing changed.", "ok");
      await loadSubs();
      const same = subs.find((s) => s.department === body.department &&
        s.period === body.period && s.version === body.version);
      if (same) await showReport(same.report); else $("report").hidden = true;
      return;
    }
    if (body.submission_id == null || !body.report) {
      say(body.message || "The file was received but nothing was stored.", "error");
      $("report").hidden = true;
      return;
    }
    const what = `Stored as version ${body.version} of ${body.department} for ${monthWords(body.period)}.`;
    say(body.replaces ? `${what} It replaces ${body.replaces}.` : what, "ok");
    await showReport(body.report, body);
    page = 0;
    await loadSubs();
  } catch (e) {
    say("The upload failed: the hub could not be reached.", "error");
  } finally {
    $("upload-button").disabled = false;
  }
});

loadSubs();

$("mapping-accept").addEventListener("click", () => {
  acceptedMapping = $("mapping-text").value;
  $("upload-form").requestSubmit();
});
