"use strict";

// Reveal: the unblurred bytes come only from an explicit POST (the hand-out, audited on the
// server) and live in this page as a temporary object URL until the item is hidden again.
// The view is recorded only once the browser has shown them: a picture that decoded, a
// video with a frame to show. Then this page sends back the one-time check the hand-out
// came with. Media that cannot be shown is never recorded as seen.
//
// Exposure: the seconds a revealed item was on screen in a visible tab are sent when it is
// hidden again (re-blur, another item, Escape, tab hidden, page left), never page time.
// A reveal is blurred again after the server's idle time without a key, pointer or playback.

const MAX_POST_SECONDS = 300; // what one exposure report may carry (the server's bound)
const revealed = new Map(); // .item element -> {img, video, url, shownAt}
let generation = 0; // a reveal answered after another started is discarded
let idleSeconds = 20; // replaced by the server's [review] reveal_idle_seconds on a reveal
let lastActivity = performance.now();

function postVisibleTime(seconds) {
  if (!(seconds > 0)) return;
  fetch("/review/exposure/time", {
    method: "POST", credentials: "same-origin", keepalive: true, // survives pagehide
    headers: { "X-CSRF-Token": csrfToken(), "Content-Type": "application/json" },
    body: JSON.stringify({ seconds: Math.min(seconds, MAX_POST_SECONDS) }),
  });
}

function hide(item) {
  const shown = revealed.get(item);
  if (!shown) return;
  revealed.delete(item);
  if (shown.shownAt !== null) postVisibleTime((performance.now() - shown.shownAt) / 1000);
  shown.video?.remove();
  shown.img.style.display = "";
  shown.img.src = shown.img.dataset.protectedSrc;
  URL.revokeObjectURL(shown.url);
  item.classList.remove("revealed");
}

function hideAll() {
  generation += 1;
  for (const item of [...revealed.keys()]) hide(item);
}

function setText(element, text) {
  if (element && text !== undefined && text !== null) element.textContent = String(text);
}

// The browser showed it: record the view (counted, audited) and bring the counters along.
async function recordView(item, button, check) {
  const answer = await fetch(button.dataset.viewedUrl, {
    method: "POST", credentials: "same-origin",
    headers: { "X-CSRF-Token": csrfToken(), "Content-Type": "application/json" },
    body: JSON.stringify({ check }),
  });
  if (!answer.ok) { await announceRefusal(answer, "View not recorded"); return; }
  const view = await answer.json();
  setText(item.querySelector(".reveal-count"), view.reveals);
  setText(document.getElementById("case-reveals"), view.case_reveals);
  setText(document.getElementById("exposure-reveals"), view.today_reveals);
  if (view.warning) setText(document.getElementById("exposure-warning"), view.warning);
}

function cannotShow(item) {
  hide(item);
  announce("This file could not be shown.", "refused");
}

function onDisplayed(item, button, check) {
  const shown = revealed.get(item);
  if (!shown || shown.shownAt !== null) return;
  shown.shownAt = performance.now();
  lastActivity = shown.shownAt;
  recordView(item, button, check);
}

function showPicture(item, button, shown, check) {
  const img = shown.img;
  img.addEventListener("load", () => {
    if (revealed.get(item) !== shown) return; // the protected rendering coming back
    if (img.naturalWidth > 0) onDisplayed(item, button, check); else cannotShow(item);
  }, { once: true });
  img.addEventListener("error", () => { if (revealed.get(item) === shown) cannotShow(item); }, { once: true });
  img.src = shown.url;
}

function showVideo(item, button, shown, check) {
  const video = document.createElement("video");
  video.muted = true;
  video.controls = true;
  video.playsInline = true;
  video.className = "revealed-video";
  video.width = shown.img.width || 320; // where the contact sheet was: the pointer stays on the item
  video.setAttribute("aria-label", shown.img.alt.replace(/^Protected [a-z ]+ of/, "Revealed video of"));
  video.addEventListener("loadeddata", () => {
    if (revealed.get(item) !== shown) return;
    onDisplayed(item, button, check);
    video.play().catch(() => {}); // muted: allowed; the controls are there if not
  }, { once: true });
  video.addEventListener("error", () => { if (revealed.get(item) === shown) cannotShow(item); }, { once: true });
  video.addEventListener("timeupdate", () => { if (!video.paused) lastActivity = performance.now(); });
  shown.video = video;
  shown.img.style.display = "none"; // the contact sheet makes way (a style rule may show [hidden])
  shown.img.after(video);
  video.src = shown.url;
}

async function reveal(button) {
  const item = button.closest(".item");
  const img = item.querySelector("img[data-protected-src]");
  hideAll(); // one item at a time
  const mine = generation;
  const answer = await fetch(button.dataset.revealUrl, {
    method: "POST", headers: { "X-CSRF-Token": csrfToken() }, credentials: "same-origin",
  });
  if (!answer.ok) {
    await announceRefusal(answer, "Not revealed");
    return;
  }
  const bytes = await answer.blob();
  if (mine !== generation || !img) return; // another reveal or a hide came first
  const idle = Number(answer.headers.get("X-Vigil-Reveal-Idle"));
  if (idle > 0) idleSeconds = idle;
  const shown = { img, video: null, url: URL.createObjectURL(bytes), shownAt: null };
  revealed.set(item, shown);
  item.classList.add("revealed");
  lastActivity = performance.now();
  const check = answer.headers.get("X-Vigil-View-Check") || "";
  const kind = answer.headers.get("X-Vigil-Media-Type");
  if (kind === "video") showVideo(item, button, shown, check); else showPicture(item, button, shown, check);
  item.addEventListener("mouseleave", () => { if (revealed.get(item) === shown) hide(item); }, { once: true });
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-reveal-url]");
  if (button) { event.preventDefault(); reveal(button); }
});
document.addEventListener("visibilitychange", () => { if (document.hidden) hideAll(); });
window.addEventListener("blur", hideAll);
window.addEventListener("pagehide", hideAll);
// Escape blurs on every media screen (keyboard.js's shortcuts are the case screen's only).
document.addEventListener("keydown", (event) => { if (event.key === "Escape") hideAll(); });

// Idle re-blur, for a click reveal and a keyboard reveal alike.
for (const kind of ["keydown", "pointermove", "pointerdown", "wheel"]) {
  document.addEventListener(kind, () => { lastActivity = performance.now(); }, { passive: true, capture: true });
}
setInterval(() => {
  if (revealed.size && performance.now() - lastActivity >= idleSeconds * 1000) {
    hideAll();
    announce(`Blurred again after ${idleSeconds} seconds without activity.`);
  }
}, 500);
