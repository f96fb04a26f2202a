// Tables on a phone and by keyboard (issue 10, part "look").
// 1. Every cell of a `table.stack` without a data-label gets its column's header as one, so
//    that under 640 px, where CSS shows each row as a card, each value keeps its label.
// 2. A `.table-wrap` that scrolls sideways becomes a named, focusable region, so that it can
//    be scrolled with the keyboard (WCAG 2.1.1); one that fits is left out of the Tab order.
(function () {
  "use strict";

  function labelCells(table) {
    var heads = table.tHead ? table.tHead.rows[0] : null;
    if (!heads) return;
    var names = [];
    Array.prototype.forEach.call(heads.cells, function (th) {
      var span = th.colSpan || 1;
      for (var i = 0; i < span; i++) names.push(th.textContent.trim());
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && names[column]) {
            cell.setAttribute("data-label", names[column]);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  }

  function nameOf(wrap) {
    var table = wrap.querySelector("table");
    if (table && table.caption) return table.caption.textContent.trim();
    var node = wrap;
    while (node) {
      var previous = node.previousElementSibling;
      while (previous) {
        if (/^H[1-6]$/.test(previous.tagName)) return previous.textContent.trim();
        var inner = previous.querySelectorAll("h1, h2, h3");
        if (inner.length) return inner[inner.length - 1].textContent.trim();
        previous = previous.previousElementSibling;
      }
      node = node.parentElement;
    }
    return document.title;
  }

  function regions() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-wrap"), function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label") && !wrap.hasAttribute("aria-labelledby")) {
          wrap.setAttribute("aria-label", nameOf(wrap));
        }
        wrap.dataset.madeFocusable = "1";
      } else if (!scrolls && wrap.dataset.madeFocusable) {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        delete wrap.dataset.madeFocusable;
      }
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("table.stack"), labelCells);
    regions();
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(regions, 150);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
