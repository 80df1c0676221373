"use strict";

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

