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

// Questions asked in the page rather than in the browser's confirm() dialog, which cannot be
// styled, reads poorly with a screen reader and is dismissed by habit. An element with
// data-confirm asks before HTMX sends its request: a panel under it says what will happen,
// offers the action (data-confirm-yes) and the way out (data-confirm-no, or Escape), and takes
// the focus; the way out gives it back to the control that asked. One question at a time.
let question = null; // { panel, asker, send }
let focusAfterSwap = null; // the id of the control whose answer is on its way

function closeQuestion(giveFocusBack) {
  if (!question) return;
  const { panel, asker } = question;
  question = null;
  panel.remove();
  if (giveFocusBack && asker.isConnected) asker.focus();
}

function answerButton(text, answer) {
  const button = document.createElement("button");
  button.type = "button"; // inside a form it must not submit it
  button.textContent = text;
  button.dataset.confirmAnswer = answer;
  if (answer === "yes") button.className = "danger";
  return button;
}

function ask(source, asker, send) {
  closeQuestion(false);
  const panel = document.createElement("div");
  panel.className = "confirm-panel";
  panel.setAttribute("role", "alertdialog");
  panel.setAttribute("aria-labelledby", "confirm-question");
  const text = document.createElement("p");
  text.id = "confirm-question";
  text.textContent = source.dataset.confirm; // text, never HTML
  const keep = answerButton(source.dataset.confirmNo || "Cancel", "no");
  panel.append(text, answerButton(source.dataset.confirmYes || "Go ahead", "yes"), keep);
  (asker.closest("[role=group]") ?? source).after(panel);
  question = { panel, asker, send };
  keep.focus(); // the answer that changes nothing: a habitual Enter does no harm
}

document.addEventListener("htmx:confirm", (event) => {
  const source = event.detail.elt;
  // A part of the page that refreshes itself would wipe an open question: it waits.
  if (question && source.contains(question.panel)) { event.preventDefault(); return; }
  if (!source.dataset?.confirm) return;
  event.preventDefault();
  const asker = event.detail.triggeringEvent?.submitter ?? source;
  ask(source, asker, () => event.detail.issueRequest(true));
});

document.addEventListener("click", (event) => {
  const answer = event.target.closest?.(".confirm-panel [data-confirm-answer]");
  if (!answer || !question) return;
  const { asker, send } = question;
  if (answer.dataset.confirmAnswer === "no") { closeQuestion(true); return; }
  closeQuestion(false);
  // The answer replaces what asked: the focus goes to its successor (same id), if any.
  if (asker.id) focusAfterSwap = asker.id;
  send();
});

document.addEventListener("keydown", (event) => {
  if (!question || !question.panel.contains(event.target)) return;
  event.stopPropagation(); // the screen's single-key shortcuts wait while a question is open
  if (event.key !== "Escape") return;
  event.preventDefault();
  closeQuestion(true);
}, true);

document.addEventListener("htmx:afterSettle", () => {
  // The control that asked is gone (another answer replaced it): its question goes too.
  if (question && !question.asker.isConnected) closeQuestion(false);
  if (!focusAfterSwap) return;
  const successor = document.getElementById(focusAfterSwap);
  focusAfterSwap = null;
  if (successor && (!document.activeElement || document.activeElement === document.body)) successor.focus();
});
