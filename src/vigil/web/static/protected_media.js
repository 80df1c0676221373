"use strict";

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
    await announceRefusal(answer, "Not revealed");
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

