// What happened, shown where the person acted: every success the server names and every
// refusal (4xx with its plain message, 5xx, no connection) goes into the page's live regions,
// so nobody is left unsure whether an action was done. Loaded before the other scripts,
// which use announce() and announceRefusal().
"use strict";

function announce(text, kind = "ok") {
  const region = document.getElementById(kind === "ok" ? "notices" : "alerts");
  const other = document.getElementById(kind === "ok" ? "alerts" : "notices");
  if (!region || !text) return;
  const line = document.createElement("p");
  line.className = "notice notice-" + kind;
  line.textContent = text; // text, never HTML: messages may quote what a person typed
  region.replaceChildren(line); // a new node, so that a repeated message is announced again
  // Only the latest outcome stands: an earlier refusal beside a later success would mislead.
  if (other) other.replaceChildren();
  keepClearOfNotices();
}

// The regions stick to the top of the window while the page scrolls (console.css), so that a
// notice stays in view; they must never hide what the person works on. The page keeps their
// height free at the top when it scrolls to an element (scroll-padding-top: #anchors, focus),
// and the element with the focus (or the current item) that a notice covers, because the
// notice came or the focus moved under it, is scrolled to just below it.
const CLEARANCE = 8; // px between a notice and what it would have covered

function noticesBottom() {
  let bottom = 0;
  for (const id of ["notices", "alerts"]) {
    const region = document.getElementById(id);
    if (region && region.childElementCount) bottom = Math.max(bottom, region.getBoundingClientRect().bottom);
  }
  return bottom;
}

function keepClearOfNotices(element = document.activeElement) {
  const bottom = noticesBottom();
  document.documentElement.style.setProperty("--notices-bottom", `${bottom ? bottom + CLEARANCE : 0}px`);
  const target = element && element !== document.body ? element : document.querySelector('.item[aria-current="true"]');
  if (!bottom || !target) return;
  const box = target.getBoundingClientRect();
  if (box.height && box.top < bottom && box.bottom > 0) window.scrollBy(0, box.top - bottom - CLEARANCE);
}
document.addEventListener("focusin", (event) => keepClearOfNotices(event.target));

// The message of a refused answer: the API's JSON {"error": {"message"}}, or the refusal
// page's alert (page routes answer with a page), or the status alone.
function refusalText(status, contentType, body) {
  if (contentType.startsWith("application/json")) {
    try {
      const message = JSON.parse(body)?.error?.message;
      if (message) return message;
    } catch (_) { /* not JSON after all: fall through */ }
  }
  if (contentType.startsWith("text/html")) {
    const page = new DOMParser().parseFromString(body, "text/html");
    const alert = page.querySelector(".refused [role=alert]");
    if (alert) return alert.textContent.trim();
  }
  if (status >= 500) return "The server failed (" + status + "). Check whether it was done before trying again.";
  return "Refused (" + status + ").";
}

async function announceRefusal(answer, what) {
  const text = refusalText(answer.status, answer.headers.get("Content-Type") || "", await answer.text());
  announce(what + ": " + text, "refused");
}

// The server names a success with HX-Trigger-After-Settle: {"vigil:notice": {"text", "kind"}},
// fired once the answer is swapped in, so that a whole page swapped into <body> keeps it.
document.addEventListener("vigil:notice", (event) => announce(event.detail.text, event.detail.kind));

// HTMX swaps nothing for an error answer: say why instead. A screen that answers a refusal
// with itself re-rendered (its own explanation in it, e.g. the password form) is swapped in;
// the generic refusal page and JSON become a line in the alert region.
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  if (xhr.status < 400) return;
  const contentType = xhr.getResponseHeader("Content-Type") || "";
  const generic = !contentType.startsWith("text/html") || xhr.status >= 500
    || new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector(".refused");
  if (!generic) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
    return;
  }
  event.detail.shouldSwap = false;
  announce("Not done: " + refusalText(xhr.status, contentType, xhr.responseText), "refused");
});
document.addEventListener("htmx:sendError", () => {
  announce("Not sent: the server could not be reached. Nothing was changed by this attempt.", "refused");
});

// A notice that must outlive a redirect travels in a short-lived cookie (set by the server,
// read once and cleared): after a page load, and after HTMX followed a redirect and swapped
// the page it led to into this one.
function announceCarriedNotice() {
  const match = document.cookie.match(/(?:^|; )vigil_notice=([^;]*)/);
  if (!match) return;
  document.cookie = "vigil_notice=; Max-Age=0; path=/; SameSite=Strict";
  try {
    const notice = JSON.parse(decodeURIComponent(match[1]));
    announce(notice.text, notice.kind);
  } catch (_) { /* a damaged cookie: nothing to show */ }
}
document.addEventListener("DOMContentLoaded", announceCarriedNotice);
document.addEventListener("htmx:afterSettle", announceCarriedNotice);
