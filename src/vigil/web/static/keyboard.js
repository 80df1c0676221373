"use strict";

// Keyboard on the screens of items (the case screen, a received report's files: each marks
// itself data-keyboard-screen). One item is current (aria-current, outlined, its details and
// controls shown; the others are compact cards). Single-key shortcuts act on it; j/k or the
// arrows move between items. A decision swaps only the decided card (HTMX), after which the
// next pending item becomes current and focused. Space selects the current card for a label
// given to several items at once. Single-key shortcuts can be switched off
// (WCAG 2.1.4): a cookie, so the choice stays with the reviewer's browser.
const SHORTCUTS_COOKIE = "vigil_shortcuts";

function items() { return [...document.querySelectorAll(".item")]; }
function current() { return document.querySelector('.item[aria-current="true"]'); }

function select(item, focus = true) {
  if (!item) return;
  if (item !== current()) hideAll(); // a revealed item is blurred when the reviewer moves on
  for (const other of items()) {
    const isCurrent = other === item;
    other.setAttribute("aria-current", String(isCurrent));
    const controls = other.querySelector(".item-controls");
    if (controls) controls.hidden = !isCurrent;
  }
  if (focus) item.focus();
}

// The first pending item after ``after``, wrapping round to the start of the case.
function nextPending(after) {
  const list = items();
  const start = list.indexOf(after);
  return [...list.slice(start + 1), ...list.slice(0, Math.max(start, 0))]
    .find((item) => item.dataset.pending === "true");
}

function shortcutsOn() {
  return !document.cookie.split("; ").includes(`${SHORTCUTS_COOKIE}=off`);
}

function showShortcutsSwitch(on) {
  for (const button of document.querySelectorAll("[data-shortcuts-toggle]")) {
    button.setAttribute("aria-pressed", String(on));
    button.textContent = `Single-key shortcuts: ${on ? "on" : "off"}`;
  }
}

function setShortcuts(on) {
  document.cookie = `${SHORTCUTS_COOKIE}=${on ? "on" : "off"}; path=/; max-age=31536000; SameSite=Strict`;
  showShortcutsSwitch(on);
  announce(on ? "Single-key shortcuts are on." : "Single-key shortcuts are off: use Tab and the arrow keys.");
}

// A shortcut on a <summary> opens its form and puts the cursor where the person types
// (the reason of a false positive or an escalation, or the confirming button); one on a
// list (the selection's classification) moves the focus to it, to choose with the arrows.
function activate(target) {
  if (target.tagName === "SELECT") {
    target.focus();
    return;
  }
  if (target.tagName === "SUMMARY") {
    const details = target.parentElement;
    details.open = true;
    details.querySelector("textarea, input:not([type=hidden]), select, button")?.focus();
    return;
  }
  target.click();
}

function shortcutTarget(key) {
  const selector = `[data-shortcut="${CSS.escape(key)}"]`;
  // A case item keeps its controls in .item-controls; a received file has them in itself.
  const inItem = current()?.querySelector(`.item-controls ${selector}`)
    ?? current()?.querySelector(selector);
  if (inItem) return inItem;
  return [...document.querySelectorAll(`[data-keyboard-screen] ${selector}`)]
    .find((element) => !element.closest(".item"));
}

function closeForm(target) {
  const details = target.closest("details[open]");
  if (!details) return false;
  details.open = false;
  details.querySelector("summary")?.focus();
  return true;
}

// A label for a selection (_case_selection.html): each pending card has a checkbox of the
// selection form; the count is shown and the button works only when something is selected.
function selectionBoxes() { return [...document.querySelectorAll("[data-selects-item]")]; }

function showSelection() {
  const count = selectionBoxes().filter((box) => box.checked).length;
  const shown = document.querySelector("[data-selection-count]");
  if (shown) shown.textContent = `${count} selected`;
  const submit = document.querySelector("[data-selection-submit]");
  if (submit) submit.disabled = count === 0;
}

function toggleSelected(card) {
  const box = card.querySelector("[data-selects-item]");
  if (!box) {
    announce(`Item ${card.dataset.itemId} is decided: only pending items can be labelled.`, "refused");
    return;
  }
  box.checked = !box.checked;
  showSelection();
}

function selectAll(checked) {
  for (const box of selectionBoxes()) box.checked = checked;
  showSelection();
}

// A card swapped in anew (a classification of that item alone) keeps its place in the
// selection; a decided card has no checkbox, so it leaves the selection.
const stillSelected = new Set();
document.addEventListener("htmx:beforeSwap", (event) => {
  const card = event.detail.target;
  if (event.detail.xhr.status >= 400) return; // refused: the card stays as it is
  if (card?.matches?.(".item") && card.querySelector("[data-selects-item]")?.checked) {
    stillSelected.add(card.id);
  }
});

// Answers that replace part of the screen but not the items (the incident type, a label for
// a selection) give the item current before the request its place and the focus back.
let returnTo = null;
document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.elt.closest?.("[data-returns-to-item]")) returnTo = current()?.id ?? null;
});
document.addEventListener("htmx:afterRequest", (event) => {
  if (!event.detail.successful) returnTo = null; // refused: nothing was swapped, nothing moved
});
document.addEventListener("htmx:afterSettle", () => {
  if (returnTo) select(document.getElementById(returnTo));
  returnTo = null;
  showSelection();
});

const MOVES = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 };

// What a key does on the screen as it is now: move to another item, or press a control.
function act(key) {
  if (key in MOVES) {
    const list = items();
    select(list[list.indexOf(current()) + MOVES[key]]);
    return;
  }
  const target = shortcutTarget(key);
  if (target) activate(target);
}

function isShortcut(key) {
  return key in MOVES
    || document.querySelector(`[data-keyboard-screen] [data-shortcut="${CSS.escape(key)}"]`) !== null;
}

// A key pressed while HTMX is still sending or swapping in the card it acts on would press
// a control that is about to be replaced or not yet wired up, and nothing would happen (a
// fast "3 c" lost its "c"): such keys wait, in order, until the page has settled.
const waiting = [];
function busy() {
  return document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added") !== null;
}
function actOnWaiting() {
  while (waiting.length && !busy()) act(waiting.shift());
}
for (const settled of ["htmx:afterSettle", "htmx:afterRequest"]) {
  document.addEventListener(settled, () => setTimeout(actOnWaiting, 0));
}

document.addEventListener("keydown", (event) => {
  if (!document.querySelector("[data-keyboard-screen]") || document.querySelector("dialog[open]")) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape") {
    waiting.length = 0;
    hideAll();
    if (closeForm(event.target)) event.preventDefault();
    return;
  }
  if (event.target.closest("input, textarea, select")) return;
  // Space on the focused card itself (not on one of its buttons) selects it; a key that
  // acts only where the focus is stays on when single-key shortcuts are off (WCAG 2.1.4).
  if (event.key === " " && event.target.matches(".item")) {
    event.preventDefault();
    toggleSelected(event.target);
    return;
  }
  if (event.key.length === 1 && !shortcutsOn()) return; // character keys only (WCAG 2.1.4)
  if (!isShortcut(event.key)) return;
  event.preventDefault();
  if (busy() || waiting.length) waiting.push(event.key);
  else act(event.key);
});

// The answer to a decision is the decided card: move on to the next pending item, or, with
// none left, to "next case". A re-classified card stays current: give it the focus back.
document.addEventListener("htmx:load", (event) => {
  const card = event.detail.elt;
  if (!card.matches?.(".item")) return;
  if (stillSelected.delete(card.id)) {
    const box = card.querySelector("[data-selects-item]");
    if (box) box.checked = true;
  }
  if (card.dataset.decided === "true") {
    const next = nextPending(card);
    if (next) select(next);
    else { select(card, false); document.querySelector("[data-next-case]")?.focus(); }
  } else if (card.getAttribute("aria-current") === "true") {
    select(card);
  }
});

// Mouse and Tab make an item current too (without moving the focus away from a control);
// ticking a card's checkbox only selects it: the current item stays.
function makesCurrent(target) {
  const item = target.closest?.(".item");
  return item && !target.closest(".select-item") ? item : null;
}

document.addEventListener("focusin", (event) => {
  const item = makesCurrent(event.target);
  if (item && item !== current()) select(item, false);
});

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-selects-item]")) showSelection();
});

document.addEventListener("click", (event) => {
  const item = makesCurrent(event.target);
  if (item && item !== current()) select(item, false);
  if (event.target.closest("[data-select-pending]")) selectAll(true);
  if (event.target.closest("[data-select-none]")) selectAll(false);
  const opener = event.target.closest("[data-opens-dialog]");
  if (opener) document.getElementById(opener.dataset.opensDialog)?.showModal();
  if (event.target.closest("[data-shortcuts-toggle]")) setShortcuts(!shortcutsOn());
});

document.addEventListener("DOMContentLoaded", () => {
  if (!document.querySelector("[data-keyboard-screen]")) return;
  showShortcutsSwitch(shortcutsOn());
  showSelection(); // the browser may have restored ticked boxes (back, reload)
  if (current()) current().focus();
  else select(items()[0], false); // a screen that names no current item starts at the first
});
