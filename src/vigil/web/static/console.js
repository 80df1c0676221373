// The review console's own script: CSRF header, reveal-one-item, keyboard shortcuts and
// time on media screens. Everything else is server-rendered HTML swapped by HTMX.
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

// A refused form answers with a page saying why (wrong password, not allowed): show it
// rather than let HTMX drop every answer that is not a success.
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  if (xhr.status >= 400 && (xhr.getResponseHeader("Content-Type") || "").startsWith("text/html")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Reveal: the unblurred bytes come only from an explicit POST (audited on the server) and
// live in this page as a temporary object URL until the reviewer leaves the item.
const revealed = new Map(); // img element -> object URL

function hide(img) {
  const url = revealed.get(img);
  if (!url) return;
  img.src = img.dataset.protectedSrc;
  URL.revokeObjectURL(url);
  revealed.delete(img);
  img.closest(".item")?.classList.remove("revealed");
}

function hideAll() {
  for (const img of [...revealed.keys()]) hide(img);
}

async function reveal(button) {
  const item = button.closest(".item");
  const img = item.querySelector("img[data-protected-src]");
  hideAll(); // one item at a time
  const answer = await fetch(button.dataset.revealUrl, {
    method: "POST", headers: { "X-CSRF-Token": csrfToken() }, credentials: "same-origin",
  });
  if (!answer.ok) {
    item.querySelector(".reveal-status").textContent = "Not revealed: " + answer.status;
    return;
  }
  const url = URL.createObjectURL(await answer.blob());
  revealed.set(img, url);
  img.src = url;
  item.classList.add("revealed");
  const count = answer.headers.get("X-Vigil-Reveals");
  if (count !== null) item.querySelector(".reveal-count").textContent = count;
  const warning = answer.headers.get("X-Vigil-Exposure-Warning");
  if (warning) document.getElementById("exposure-warning").textContent = warning;
  item.addEventListener("mouseleave", () => hide(img), { once: true });
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-reveal-url]");
  if (button) { event.preventDefault(); reveal(button); }
});
document.addEventListener("visibilitychange", () => { if (document.hidden) hideAll(); });
window.addEventListener("blur", hideAll);

// Keyboard: shortcuts act on the current item; j/k (or arrows) move between items.
function items() { return [...document.querySelectorAll(".item")]; }
function current() { return document.querySelector('.item[aria-current="true"]') || items()[0]; }
function select(item) {
  if (!item) return;
  hideAll();
  items().forEach((other) => other.setAttribute("aria-current", String(other === item)));
  item.focus();
}

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape") { hideAll(); return; }
  const list = items();
  const index = list.indexOf(current());
  if (event.key === "j" || event.key === "ArrowDown") { select(list[index + 1]); event.preventDefault(); return; }
  if (event.key === "k" || event.key === "ArrowUp") { select(list[index - 1]); event.preventDefault(); return; }
  const scope = current() || document;
  const target = scope.querySelector(`[data-shortcut="${CSS.escape(event.key)}"]`)
    || document.querySelector(`.case-actions [data-shortcut="${CSS.escape(event.key)}"]`);
  if (target) { event.preventDefault(); target.click(); }
});

// Time on media screens, for the reviewer's own exposure counter (never what was seen).
const MEDIA_TICK = 15;
setInterval(() => {
  if (document.hidden || !document.querySelector("[data-media-screen]")) return;
  fetch("/review/exposure/time", {
    method: "POST", credentials: "same-origin",
    headers: { "X-CSRF-Token": csrfToken(), "Content-Type": "application/json" },
    body: JSON.stringify({ seconds: MEDIA_TICK }),
  });
}, MEDIA_TICK * 1000);

// Downloads that change state (a response package is logged in the chain of custody): a POST
// with the CSRF header, saved under the name the server gives.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-download]");
  if (!form) return;
  event.preventDefault();
  const answer = await fetch(form.action, {
    method: "POST", headers: { "X-CSRF-Token": csrfToken() }, credentials: "same-origin",
  });
  if (!answer.ok) { alert("Not produced: " + answer.status); return; }
  const name = (answer.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await answer.blob());
  link.download = name ? name[1] : "download";
  link.click();
  URL.revokeObjectURL(link.href);
});
