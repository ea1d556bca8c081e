// User management: ask before a revocation (it cannot be undone).
"use strict";
for (const f of document.querySelectorAll("form.confirm")) {
  f.addEventListener("submit", (ev) => { if (!window.confirm(f.dataset.confirm)) ev.preventDefault(); });
}
