// Compare page: ask /compare for the HTML report (GET with the hub's police files, or POST with
// the chosen file) and show its body here; errors in words.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  $("compare-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ from: $("c-from").value, to: $("c-to").value, unit: $("c-unit").value, format: "html" });
    if ($("c-borough").value) q.append("borough", $("c-borough").value);
    const file = $("c-police").files[0];
    let init = { credentials: "same-origin" };
    if (file) {
      const fd = new FormData();
      fd.append("police", file, file.name);
      init = { ...init, method: "POST", body: fd };
    }
    $("compare-status").textContent = "Comparing…";
    $("compare-status").className = "";
    $("compare-button").disabled = true;
    try {
      const r = await fetch("/compare?" + q.toString(), init);
      const text = await r.text();
      if (!r.ok) {
        let d = text;
        try { d = JSON.parse(text).detail; } catch (e) { /* not JSON */ }
        if (Array.isArray(d)) d = d.map((x) => x.msg).join("; ");
        if (r.status === 404) d = "No police data is set up on the hub: choose a police.uk file.";
        $("compare-status").textContent = "Could not compare: " + d;
        $("compare-status").className = "error";
        $("report").replaceChildren();
        return;
      }
      const doc = new DOMParser().parseFromString(text, "text/html");
      for (const s of doc.querySelectorAll("style, script")) s.remove();
      $("report").replaceChildren(...Array.from(doc.body.childNodes).map((n) => document.importNode(n, true)));
      $("compare-status").textContent = "Done.";
    } catch (e) {
      $("compare-status").textContent = "Could not compare: the hub could not be reached.";
      $("compare-status").className = "error";
    } finally {
      $("compare-button").disabled = false;
    }
  });
})();
