"use strict";

// Reveal: the unblurred bytes come only from an explicit POST (the hand-out, audited on the
// server) and live in this page as a temporary object URL until the item is hidden again.
// The view is recorded only once the browser has shown them clearly: a picture that
// decoded; a video once "Show clearly" took its protective filter off and a frame was
// painted without it. Then this page sends back the one-time check the hand-out came with.
// Media that cannot be shown, or a video only ever played protected, is never recorded as
// seen.
//
// A revealed video plays protected first (blurred and grayscale by a CSS filter as strong as
// the still renderings' blur, X-Vigil-Protected-Blur); "Show clearly" and "Protect again"
// switch the filter, and the reveal key (data-shortcut, which keyboard.js presses) moves to
// whichever of the two comes next.
//
// Exposure: the seconds a revealed item was on screen in a visible tab are sent when it is
// hidden again (re-blur, another item, Escape, tab hidden, page left), never page time;
// protected playback counts too. After the server's idle time without a key, pointer or
// playback a clear video is protected again and paused; after another, any reveal is hidden.

const MAX_POST_SECONDS = 300; // what one exposure report may carry (the server's bound)
const revealed = new Map(); // .item element -> what is shown of it (see reveal())
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
  shown.resizing?.disconnect();
  shown.video?.remove();
  for (const control of [shown.clearly, shown.again]) if (control) control.hidden = true;
  giveKey(shown, shown.button);
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
// Whether the server recorded it.
async function recordView(item, button, check) {
  const answer = await fetch(button.dataset.viewedUrl, {
    method: "POST", credentials: "same-origin",
    headers: { "X-CSRF-Token": csrfToken(), "Content-Type": "application/json" },
    body: JSON.stringify({ check }),
  });
  if (!answer.ok) { await announceRefusal(answer, "View not recorded"); return false; }
  const view = await answer.json();
  setText(item.querySelector(".reveal-count"), view.reveals);
  setText(document.getElementById("case-reveals"), view.case_reveals);
  setText(document.getElementById("exposure-reveals"), view.today_reveals);
  if (view.warning) setText(document.getElementById("exposure-warning"), view.warning);
  return true;
}

function cannotShow(item) {
  hide(item);
  announce("This file could not be shown.", "refused");
}

function startExposure(shown) {
  if (shown.shownAt !== null) return;
  shown.shownAt = performance.now();
  lastActivity = shown.shownAt;
}

function onDisplayed(item, button, check) {
  const shown = revealed.get(item);
  if (!shown || shown.shownAt !== null) return;
  startExposure(shown);
  recordView(item, button, check);
}

// keyboard.js presses the current item's control that carries the reveal key: give it to
// the step a revealed video would take next, and back to the reveal button when hidden.
function giveKey(shown, target) {
  if (!shown.key) return;
  const holder = target ?? shown.button;
  for (const control of [shown.button, shown.clearly, shown.again]) {
    if (!control) continue;
    delete control.dataset.shortcut;
    control.querySelector("kbd")?.toggleAttribute("hidden", control !== holder); // says where r is
  }
  holder.dataset.shortcut = shown.key;
}

// The blur is a fraction of the longer side the video is shown at (kept when it is resized,
// fullscreen included), as the still renderings' blur is of theirs.
function protectiveFilter(shown) {
  const video = shown.video;
  const side = Math.max(video.clientWidth, video.clientHeight, video.width);
  return `blur(${(shown.blur * side).toFixed(1)}px) grayscale(1)`;
}

function setProtected(shown, on) {
  shown.clear = !on;
  shown.video.style.filter = on ? protectiveFilter(shown) : "none";
  // The filter would blur the player's own controls too, past reading: a protected video
  // plays by itself, and the controls come with the clear view.
  shown.video.controls = !on;
  shown.video.setAttribute("aria-label", `${shown.label}, ${on ? "protected (blurred, grayscale)" : "shown clearly"}`);
  shown.clearly.hidden = !on;
  shown.again.hidden = on;
  giveKey(shown, on ? shown.clearly : shown.again);
}

// The view: once a frame has been painted without the filter (two animation frames: the
// one that applies the change and the one after it, which a hidden tab never gets).
function recordClearView(shown) {
  const video = shown.video;
  const confirm = () => requestAnimationFrame(() => requestAnimationFrame(async () => {
    if (revealed.get(shown.item) !== shown || !shown.clear || shown.viewed || video.readyState < 2) return;
    shown.viewed = true;
    // A clear view the server refused to record (its check expired during a long protected
    // playback, say) does not stay on screen: the audit log would not know of it.
    if (!(await recordView(shown.item, shown.button, shown.check)) && revealed.get(shown.item) === shown) {
      hide(shown.item);
    }
  }));
  if (video.readyState >= 2) confirm(); else video.addEventListener("loadeddata", confirm, { once: true });
}

function showClearly(item) {
  const shown = revealed.get(item);
  if (!shown?.video || shown.clear) return;
  setProtected(shown, false);
  lastActivity = performance.now();
  if (!shown.viewed) recordClearView(shown);
}

function protectAgain(item, pause) {
  const shown = revealed.get(item);
  if (!shown?.video || !shown.clear) return;
  setProtected(shown, true);
  if (pause) shown.video.pause();
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

function showVideo(item, shown) {
  if (!shown.clearly || !shown.again) { cannotShow(item); return; } // no way to view it clearly
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.style.clipPath = "inset(0)"; // the blur stays inside the video's box (clipped after filtering)
  // Neither would show the bytes where the filter and the re-blur reach: a download or a
  // picture-in-picture window. Fullscreen keeps the filter (and its scale, below).
  video.controlsList?.add("nodownload", "noremoteplayback"); // Chromium's controls offer both
  video.disablePictureInPicture = true;
  video.className = "revealed-video";
  video.width = shown.img.width || 320; // where the contact sheet was: the pointer stays on the item
  shown.video = video;
  shown.label = shown.img.alt.replace(/^Protected [a-z ]+ of/, "Revealed video of");
  setProtected(shown, true); // before it has a frame to paint
  shown.resizing = new ResizeObserver(() => { if (!shown.clear) video.style.filter = protectiveFilter(shown); });
  shown.resizing.observe(video);
  video.addEventListener("loadeddata", () => {
    if (revealed.get(item) !== shown) return;
    startExposure(shown); // protected playback is exposure, not yet a view
    video.play().catch(() => {}); // muted: allowed; if not, "Show clearly" brings the controls
  }, { once: true });
  video.addEventListener("error", () => { if (revealed.get(item) === shown) cannotShow(item); }, { once: true });
  video.addEventListener("timeupdate", () => { if (!video.paused) lastActivity = performance.now(); });
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
  const blur = Number(answer.headers.get("X-Vigil-Protected-Blur"));
  const check = answer.headers.get("X-Vigil-View-Check") || "";
  const shown = {
    item, img, button, check, video: null, url: URL.createObjectURL(bytes), shownAt: null,
    blur: blur > 0 ? blur : 1, // no strength given: blur by the whole side rather than not at all
    key: button.dataset.shortcut,
    clearly: item.querySelector("[data-show-clearly]"),
    again: item.querySelector("[data-protect-again]"),
    clear: false, viewed: false, resizing: null, label: "",
  };
  revealed.set(item, shown);
  item.classList.add("revealed");
  lastActivity = performance.now();
  const kind = answer.headers.get("X-Vigil-Media-Type");
  if (kind === "video") showVideo(item, shown); else showPicture(item, button, shown, check);
  item.addEventListener("mouseleave", () => { if (revealed.get(item) === shown) hide(item); }, { once: true });
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-reveal-url]");
  if (button) { event.preventDefault(); reveal(button); return; }
  const clarity = event.target.closest("[data-show-clearly], [data-protect-again]");
  if (!clarity) return;
  event.preventDefault();
  const item = clarity.closest(".item");
  if (clarity.matches("[data-show-clearly]")) showClearly(item); else protectAgain(item, false);
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
  if (!revealed.size || performance.now() - lastActivity < idleSeconds * 1000) return;
  const clear = [...revealed.keys()].filter((item) => revealed.get(item).clear);
  if (clear.length) { // first back to protected, paused; hidden after another idle time
    for (const item of clear) protectAgain(item, true);
    lastActivity = performance.now();
    announce(`Protected again after ${idleSeconds} seconds without activity.`);
    return;
  }
  hideAll();
  announce(`Blurred again after ${idleSeconds} seconds without activity.`);
}, 500);
