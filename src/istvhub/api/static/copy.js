// "Copy" buttons: copy the value of the field named by data-copy, and say so.
"use strict";
for (const b of document.querySelectorAll("button[data-copy]")) {
  b.addEventListener("click", async () => {
    const el = document.getElementById(b.dataset.copy);
    el.select();
    try { await navigator.clipboard.writeText(el.value || el.textContent); } catch (e) { document.execCommand("copy"); }
    b.textContent = "Copied";
    setTimeout(() => { b.textContent = "Copy"; }, 2000);
  });
}
