// The owned list's selection (templates/numbers/_bulk_bar.html): a checkbox per row, shift-click for
// a range, the header box for the numbers shown, and "select all N that match this filter" (sent as
// the filter, which the server resolves against the mirror). The sticky bar says how many are selected.
// The bar is not part of the page: it is fetched (GET bulk/bar, into #bulk-bar-slot) when a checkbox is
// first reached, by focus or pointer, or when something is selected; the selection is kept here from
// the first click, so it does not wait for the bar.
(function () {
  "use strict";
  var slot = document.getElementById("bulk-bar-slot");
  if (!slot) return;
  var bar = null;
  var selected = new Set();
  var wholeFilter = false;
  var lastClicked = null;

  function fetchBar() {
    if (bar || slot._asked) return;
    slot._asked = true;
    htmx.ajax("GET", slot.dataset.url, { target: slot, swap: "outerHTML" });
  }
  function need(event) {
    var t = event.target;
    if (t.matches && t.matches("input[data-bulk-row], input[data-bulk-page]")) fetchBar();
  }
  document.addEventListener("focusin", need, true);
  document.addEventListener("pointerdown", need, true);

  function table() { return document.getElementById("numbers-table"); }
  function boxes() { return Array.prototype.slice.call(document.querySelectorAll("input[data-bulk-row]")); }
  function total() { var t = table(); return t ? Number(t.dataset.bulkTotal || 0) : 0; }

  function render() {
    var shown = boxes();
    shown.forEach(function (box) { box.checked = wholeFilter || selected.has(box.value); });
    var n = wholeFilter ? total() : selected.size;
    var page = document.querySelector("input[data-bulk-page]");
    var allShown = shown.length > 0 && shown.every(function (b) { return b.checked; });
    if (page) {
      page.checked = allShown;
      page.indeterminate = !allShown && shown.some(function (b) { return b.checked; });
    }
    if (!bar) {
      if (n) fetchBar();  // it renders this selection when it arrives
      return;
    }
    bar.hidden = n === 0;
    var countText = bar.querySelector("[data-bulk-count]");
    if (wholeFilter) {
      countText.textContent = "All " + n + " numbers that match this filter are selected";
    } else {  // "N selected", the word hidden on a phone (app.css), where the bar is one line
      countText.textContent = "";
      countText.appendChild(document.createTextNode(String(n)));
      var word = document.createElement("span");
      word.className = "bulk-count-word";
      word.textContent = " selected";
      countText.appendChild(word);
    }
    bar.querySelector("[data-bulk-all]").hidden = wholeFilter || !allShown || total() <= shown.length;
    bar.querySelector("[data-bulk-total-text]").textContent = String(total());
    bar.querySelector("[data-bulk-scope]").value = wholeFilter ? "filter" : "ids";
    bar.querySelector("[data-bulk-ids]").value = wholeFilter ? "" : Array.from(selected).join(",");
    var t = table();
    bar.querySelector("[data-bulk-filter-value]").value = wholeFilter && t ? t.dataset.bulkFilter || "" : "";
  }

  function setBox(box, on) {
    if (on) selected.add(box.value); else selected.delete(box.value);
  }

  document.addEventListener("click", function (event) {
    var box = event.target.closest && event.target.closest("input[data-bulk-row]");
    if (box) {
      if (wholeFilter) { // leaving "all that match": keep what is shown, minus this one
        wholeFilter = false;
        boxes().forEach(function (b) { selected.add(b.value); });
      }
      var list = boxes();
      if (event.shiftKey && lastClicked && list.indexOf(lastClicked) >= 0) {
        var a = list.indexOf(lastClicked), b = list.indexOf(box);
        list.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (x) { setBox(x, box.checked); });
      } else {
        setBox(box, box.checked);
      }
      lastClicked = box;
      render();
      return;
    }
    if (event.target.matches && event.target.matches("input[data-bulk-page]")) {
      wholeFilter = false;
      boxes().forEach(function (b) { setBox(b, event.target.checked); });
      render();
    }
  });

  // A new filter is a new list: the selection starts again. More rows (infinite scroll) keep it.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "numbers-table") {
      wholeFilter = false; selected.clear(); lastClicked = null;
    }
    render();
  });

  htmx.onLoad(function (elt) {
    var found = elt.id === "bulk-bar" ? elt : elt.querySelector && elt.querySelector("#bulk-bar");
    if (found && found !== bar) start(found);
  });

  function start(loaded) {
    bar = loaded;
    bar.querySelector("[data-bulk-all]").addEventListener("click", function () { wholeFilter = true; render(); });
    bar.querySelector("[data-bulk-clear]").addEventListener("click", function () {
      wholeFilter = false; selected.clear(); render();
    });

    // The action's own inputs show only for it.
    var action = bar.querySelector("[data-bulk-action]");
    function showInputs() {
      bar.querySelectorAll("[data-bulk-for]").forEach(function (el) {
        el.hidden = !action.value || el.dataset.bulkFor.split(" ").indexOf(action.value) < 0;
      });
    }
    if (action) action.addEventListener("change", showInputs);  // a role with no action has no menu

    // "Assign to": a pointer choice opens the preview at once; with the keyboard, arrows and letters only
    // choose and Enter opens it (a preview changes nothing, but a dialog popping up mid-browse is wrong).
    var assign = bar.querySelector("select[data-bulk-assign]");
    if (assign) {
      var keyAt = 0;
      assign.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          if (assign.value) htmx.trigger(assign, "bulk-preview");
        } else if (event.key !== "Tab" && event.key !== "Shift") {
          keyAt = Date.now();
        }
      });
      assign.addEventListener("change", function () {
        if (assign.value && Date.now() - keyAt > 1000) htmx.trigger(assign, "bulk-preview");
      });
    }
    showInputs();
    render();
  }
})();
