// The console's shared script: the CSRF header, forms that send themselves, and downloads.
// Beside it: notices.js (what happened), protected_media.js (reveals), keyboard.js (keys).
// Everything else is server-rendered HTML swapped by HTMX.
"use strict";

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )vigil_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

document.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["X-CSRF-Token"] = csrfToken();
});

// Forms that send themselves when a choice changes (the page's Content-Security-Policy allows
// no inline handlers): "request" goes through HTMX's submit event, anything else reloads.
document.addEventListener("change", (event) => {
  const control = event.target.closest("[data-submit-on-change]");
  if (!control || !control.form) return;
  if (control.dataset.submitOnChange === "request") control.form.requestSubmit();
  else control.form.submit();
});

// Downloads that change state (a response package is logged in the chain of custody): a POST
// with the CSRF header, saved under the name the server gives.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-download]");
  if (!form) return;
  event.preventDefault();
  const answer = await fetch(form.action, {
    method: "POST", headers: { "X-CSRF-Token": csrfToken() }, credentials: "same-origin",
  });
  if (!answer.ok) { await announceRefusal(answer, "Not produced"); return; }
  const name = (answer.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await answer.blob());
  link.download = name ? name[1] : "download";
  link.click();
  URL.revokeObjectURL(link.href);
});
