// Dashboard behaviour that HTML attributes cannot express: toasts, server-rendered dialogs,
// the inline tag editor's keys and checks, and the address -> city code link in the buy dialog.
// No inline script anywhere (the Content-Security-Policy forbids it); this file is loaded once.
(function () {
  "use strict";

  // ---- Toasts: from HX-Trigger {"toast": {"level", "message"}} and from server-rendered messages.
  function toast(message, level) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast " + (level || "info");
    el.setAttribute("role", level === "error" ? "alert" : "status");
    el.textContent = message;
    box.appendChild(el);
    dismissLater(el);
  }
  function dismissLater(el) {
    setTimeout(function () { el.remove(); }, el.classList.contains("error") ? 12000 : 6000);
  }
  document.body.addEventListener("toast", function (event) {
    toast(event.detail.message, event.detail.level);
  });
  document.querySelectorAll("#toasts .toast").forEach(dismissLater);

  // ---- Dialogs: the server answers with a <dialog data-modal>; open it, remove it when closed.
  function openDialogs(root) {
    var dialogs = root.matches && root.matches("dialog[data-modal]") ? [root] : [];
    dialogs = dialogs.concat(Array.prototype.slice.call(root.querySelectorAll ? root.querySelectorAll("dialog[data-modal]") : []));
    dialogs.forEach(function (dialog) {
      if (dialog.open) return;
      dialog.addEventListener("close", function () { dialog.remove(); });
      dialog.showModal();
      var focus = dialog.querySelector("[autofocus]") || dialog.querySelector("select, input, button.primary, button");
      if (focus) focus.focus();
    });
  }
  htmx.onLoad(openDialogs);
  document.body.addEventListener("closeModal", function () {
    document.querySelectorAll("dialog[data-modal]").forEach(function (d) { d.close(); });
  });
  document.body.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) { event.preventDefault(); closer.closest("dialog").close(); }
  });

  // ---- Server errors: a 5xx is never swapped into the page; say so in a toast instead.
  document.body.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status < 500) return;
    var reference = xhr.getResponseHeader("X-Error-Reference");
    toast("The dashboard could not complete that request (HTTP " + xhr.status + (reference ? ", reference " + reference : "") + "). Whether it changed anything is not known: reload, or look at the audit log, before trying again.", "error");
  });
  document.body.addEventListener("htmx:sendError", function () {
    toast("The dashboard server cannot be reached. Check your connection and try again.", "error");
  });

  // ---- Inline tag editor: Escape cancels; the same rules as Staffify checked before sending.
  // The limits come from numbers_app/rules.py through data attributes on <body>.
  var MAX_TAGS = Number(document.body.dataset.maxTags), MAX_LEN = Number(document.body.dataset.maxTagLength);
  function tagProblem(value) {
    var tags = value.split(",").map(function (t) { return t.trim(); });
    if (tags.length === 1 && tags[0] === "") return "";
    var seen = {};
    for (var i = 0; i < tags.length; i++) {
      if (tags[i] === "") return "Remove the empty tag (two commas in a row, or a comma at the end).";
      if (tags[i].length > MAX_LEN) return "Tag \u201c" + tags[i].slice(0, 20) + "\u2026\u201d is longer than " + MAX_LEN + " characters.";
      var key = tags[i].toLowerCase();
      if (seen[key]) return "Tag \u201c" + tags[i] + "\u201d appears twice.";
      seen[key] = true;
    }
    if (tags.length > MAX_TAGS) return "At most " + MAX_TAGS + " tags: this has " + tags.length + ".";
    return "";
  }
  function checkTags(input) {
    var problem = tagProblem(input.value);
    input.setCustomValidity(problem);
    input.setAttribute("aria-invalid", problem ? "true" : "false");
    var out = document.getElementById(input.getAttribute("aria-describedby"));
    if (out) out.textContent = problem;
    return !problem;
  }
  document.body.addEventListener("input", function (event) {
    if (event.target.matches("input[data-tags-input]")) checkTags(event.target);
  });
  document.body.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-tags-input]")) return;
    if (event.key === "Escape") {
      event.preventDefault();
      var cancel = input.form.querySelector("[data-cancel]");
      if (cancel) cancel.click();
    }
  });
  document.body.addEventListener("htmx:confirm", function (event) {
    // Stop a tag form with a rule broken before it is sent; the message is already beside the field.
    var form = event.target;
    if (form.matches && form.matches("form.tag-editor")) {
      var input = form.querySelector("input[data-tags-input]");
      if (input && !checkTags(input)) { event.preventDefault(); input.reportValidity(); }
    }
  });
  htmx.onLoad(function (root) {
    var input = root.querySelector && root.querySelector("input[data-tags-input][data-focus]");
    if (input) { input.focus(); input.setSelectionRange(input.value.length, input.value.length); }
  });

  // ---- Buy dialog: the chosen address decides the city code that is sent.
  document.body.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches("select[data-address-select]")) return;
    var option = select.options[select.selectedIndex];
    var target = document.getElementById(select.getAttribute("data-city-target"));
    if (target) target.value = option ? (option.getAttribute("data-city-code") || "") : "";
  });
})();
