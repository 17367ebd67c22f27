// Dashboard behaviour that HTML attributes cannot express: toasts, server-rendered dialogs,
// the inline tag editor's keys and checks, and the address -> city code link in the buy dialog.
// No inline script anywhere (the Content-Security-Policy forbids it); this file is loaded once.
// htmx's settings, read when the page is ready (after this deferred file has run): here once rather
// than in a <meta name="htmx-config"> in every page. No eval, no script tags from answers; a 4xx answer
// is swapped (it carries the form with its errors), 204 and 5xx are not.
Object.assign(htmx.config, {
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  responseHandling: [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: false },
    { code: "...", swap: false, error: true },
  ],
});

(function () {
  "use strict";

  // ---- Toasts: from HX-Trigger {"toast": {"level", "message", "group"?, "many"?}} and server messages.
  // One toast per kind of change counts instead of stacking ("15 numbers moved", with the latest one
  // under it); it goes after a few seconds. Errors stay until dismissed, each once (repeats count).
  // The region is aria-live polite; an error is role=alert.
  function dismissButton(el) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "toast-dismiss";
    button.setAttribute("aria-label", "Dismiss");
    button.textContent = "\u00d7";
    button.addEventListener("click", function () { el.remove(); });
    el.appendChild(button);
  }
  function toast(message, level, group, many) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    level = level || "info";
    var error = level === "error";
    var key = error ? "error:" + message : (group ? "group:" + group : "");
    var el = null;
    if (key) {
      Array.prototype.forEach.call(box.querySelectorAll(".toast"), function (t) { if (t.dataset.key === key) el = t; });
    }
    if (el) {
      var count = Number(el.dataset.count || 1) + 1;
      el.dataset.count = String(count);
      el.className = "toast " + level;
      var summary = el.querySelector(".toast-summary");
      var latest = el.querySelector(".toast-latest");
      if (error) {
        summary.textContent = message + " (" + count + "\u00d7)";
      } else {
        summary.textContent = (many || "{n} changes").replace("{n}", String(count)) + ".";
        latest.textContent = "Latest: " + message;
        latest.hidden = false;
      }
      box.appendChild(el);  // the newest news last, nearest the eye
    } else {
      el = document.createElement("div");
      el.className = "toast " + level;
      el.dataset.count = "1";
      if (key) el.dataset.key = key;
      el.setAttribute("role", error ? "alert" : "status");
      var text = document.createElement("span");
      text.className = "toast-summary";
      text.textContent = message;
      var small = document.createElement("span");
      small.className = "toast-latest";
      small.hidden = true;
      el.appendChild(text);
      el.appendChild(small);
      box.appendChild(el);
    }
    dismissLater(el);
  }
  function dismissLater(el) {
    if (el.classList.contains("error")) {
      if (!el.querySelector(".toast-dismiss")) dismissButton(el);
      return;  // an error stays until it is dismissed
    }
    clearTimeout(el._dismiss);
    el._dismiss = setTimeout(function () { el.remove(); }, 6000);
  }
  document.body.addEventListener("toast", function (event) {
    var d = event.detail || {};
    toast(d.message, d.level, d.group, d.many);
  });
  document.querySelectorAll("#toasts .toast").forEach(dismissLater);

  // A control that takes focus is never left hidden under the toasts (WCAG 2.4.11): scroll it clear.
  document.addEventListener("focusin", function (event) {
    var box = document.getElementById("toasts");
    if (!box || !box.children.length || !event.target.getBoundingClientRect) return;
    // Keyboard focus only: scrolling between a mouse's press and release would move the page under the
    // pointer, and the click would land on something else (or nothing).
    if (!event.target.matches || !event.target.matches(":focus-visible")) return;
    var mine = event.target.getBoundingClientRect(), theirs = box.getBoundingClientRect();
    var overlaps = mine.bottom > theirs.top && mine.top < theirs.bottom && mine.right > theirs.left && mine.left < theirs.right;
    if (overlaps) window.scrollBy(0, mine.bottom - theirs.top + 12);
  });

  // ---- Focus after a swap: the control that was used (same id), or the same kind of control
  // (data-focus-role: agent, tags, action; in a row of the owned list, which carries no roles to keep
  // it short, the same column) in the swapped part, else its first control. A dialog stands for the
  // control that opened it.
  var FOCUSABLE = "a[href], button:not([disabled]), select:not([disabled]), input:not([disabled]):not([type=hidden])";
  function roleOf(elt) {
    if (!elt || !elt.closest) return "";
    var holder = elt.closest("[data-focus-role]") || (elt.querySelector && elt.querySelector("[data-focus-role]"));
    if (holder) return holder.dataset.focusRole;
    var cell = elt.closest("tr[id] > td");
    return cell ? "cell:" + cell.cellIndex : "";
  }
  function withRole(scope, role) {
    if (role.indexOf("cell:") === 0) {
      var row = scope.matches("tr") ? scope : scope.querySelector("tr[id]");
      var cell = row && row.cells[+role.slice(5)];
      return cell ? cell.querySelector(FOCUSABLE) : null;
    }
    return scope.querySelector("[data-focus-role='" + role + "']");
  }
  function focusMemo(elt) {
    var active = document.activeElement;
    if (!active || active === document.body) active = elt;
    var dialog = active && active.closest ? active.closest("dialog[data-modal]") : null;
    if (dialog && dialog.dataset.openerRole) return { role: dialog.dataset.openerRole, id: dialog.dataset.openerId || "" };
    return { role: roleOf(active), id: (active && active.id) || "" };
  }
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    event.detail.xhr._focusMemo = focusMemo(event.detail.elt);
  });

  // ---- A row's write in flight says "Saving…" beside its control (a disabled control alone looks like
  // one the role may not use). Only writes from inside a number's row; the row's answer replaces it.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt, verb = (event.detail.requestConfig && event.detail.requestConfig.verb) || "";
    if (verb.toLowerCase() === "get" || !elt.closest) return;
    var cell = elt.closest("tr[id^=number-] > td");
    if (!cell || cell.querySelector(".saving")) return;
    var note = document.createElement("span");
    note.className = "saving";
    note.setAttribute("role", "status");
    note.textContent = "Saving…";
    cell.appendChild(note);
    event.detail.xhr.addEventListener("loadend", function () { note.remove(); });
  });
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr && target && target.id) event.detail.xhr._focusTarget = target.id;
  });
  document.body.addEventListener("htmx:afterSettle", function (event) {
    var xhr = event.detail.xhr, memo = xhr && xhr._focusMemo;
    if (!memo || !xhr._focusTarget) return;
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;  // focus is somewhere already
    var scope = document.getElementById(xhr._focusTarget);
    if (!scope) return;
    var next = (memo.id && document.getElementById(memo.id)) ||
      (memo.role && withRole(scope, memo.role)) ||
      scope.querySelector(FOCUSABLE);
    if (next && !next.matches(FOCUSABLE)) next = next.querySelector(FOCUSABLE);
    if (next && !next.disabled) next.focus();
  });

  // ---- A row of the owned list arrives short (numbers_app.text.row_html): what every row repeats is
  // written here, from the row's id (tr#number-ID), its number as shown (its second cell) and the URL
  // patterns its <tbody> carries once (data-row-urls): the checkbox's value and name, the agent
  // dropdown's form, name, id, name for assistive technology, saved value and "— no agent —" option, the
  // tags button's URL and name, Release's URL and name. Then htmx reads the new attributes.
  function vh(text) {
    var span = document.createElement("span");
    span.className = "vh";
    span.textContent = text;
    return span;
  }
  function dressRow(tr) {
    var holder = tr.closest("[data-row-urls]");
    if (!holder) return;
    var urls = holder._rowUrls || (holder._rowUrls = JSON.parse(holder.dataset.rowUrls));
    var id = tr.id.slice(7), cell = tr.cells[1];
    var number = cell && cell.firstChild ? cell.firstChild.textContent.trim() : "";
    function url(name) { return urls[name].replace("{}", id); }
    var changed = false;
    var box = tr.querySelector("input[data-bulk-row]:not([value])");
    if (box) {
      box.setAttribute("value", id);
      box.setAttribute("aria-label", "Select " + number);
    }
    var select = tr.querySelector("select[data-agent-select]:not([name])");
    if (select) {
      var form = document.createElement("form");
      form.className = "agent-form";
      form.setAttribute("hx-post", url("assign_agent"));
      form.setAttribute("hx-disabled-elt", "find select");
      select.parentNode.insertBefore(form, select);
      form.appendChild(select);
      if (!select.querySelector("option[value='']")) {
        var none = document.createElement("option");
        none.value = "";
        none.textContent = "— no agent —";
        select.insertBefore(none, select.firstChild);
      }
      select.id = "agent-" + id;
      select.name = "agent_id";
      select.setAttribute("aria-label", "Agent for " + number);
      select.dataset.saved = select.value;
      changed = true;
    }
    var tags = tr.querySelector(".tags-cell > button.tags-display:not([hx-get])");
    if (tags) {
      tags.parentNode.id = "tags-" + id;
      tags.setAttribute("hx-get", url("tags_editor"));
      tags.setAttribute("hx-target", "closest div");
      tags.dataset.focusRole = "tags";
      tags.appendChild(vh((tags.querySelector(".tag") ? ": edit the tags of " : " to ") + number));
      changed = true;
    }
    var note = tr.querySelector(".note-cell > button[data-note]:not([hx-get])");
    if (note) {
      note.setAttribute("hx-get", url("note_editor"));
      note.setAttribute("hx-target", "closest div");
      note.appendChild(vh((note.querySelector(".placeholder") ? " to " : ": edit the name and note of ") + number));
      changed = true;
    }
    var cellOfTags = tr.querySelector(".tags-cell:not([id])");
    if (cellOfTags) cellOfTags.id = "tags-" + id;
    var release = tr.querySelector("button[data-release]:not([hx-get])");
    if (release) {
      release.setAttribute("hx-get", url("release_dialog"));
      release.appendChild(vh(" " + number));
      changed = true;
    }
    if (changed) htmx.process(tr);
  }
  function dressRows(root) {
    if (!root.querySelectorAll) return;
    var up = root.closest && root.closest("tr[id^='number-']");
    if (up) dressRow(up);
    Array.prototype.forEach.call(root.querySelectorAll("tr[id^='number-']"), dressRow);
  }
  htmx.onLoad(dressRows);

  // ---- Agent dropdown: a pointer choice commits at once; the keyboard only chooses (arrows, letters)
  // and Enter commits, Escape puts back the saved agent. Nothing is sent by arrowing through options.
  // A row's dropdown arrives with "— no agent —" and its saved agent only, the agent filter with its
  // chosen agent, the selection bar's "Assign to" with its prompt. Every agent's option comes once per
  // page: from <template id="agent-options"> (a number's own page), or fetched from the URL the page
  // names (data-agent-options-url, the owned list) when the browser is first idle. Each dropdown gets
  // them when it is focused or pressed (before it opens), and the rest while the browser is idle, a few
  // at a time: the page's HTML grows with neither rows × agents nor the agents.
  var AGENT_SELECTS = "select[data-agent-select], select[data-agents], select[data-agent-source]";
  var fetchedAgents = null, askedAgents = false;
  function agentOptions() {
    var template = document.getElementById("agent-options");
    if (template) return template.content;
    if (fetchedAgents) return fetchedAgents;
    var holder = document.querySelector("[data-agent-options-url]");
    if (holder && !askedAgents) {
      askedAgents = true;
      fetch(holder.dataset.agentOptionsUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.text();
        })
        .then(function (html) {
          var parsed = document.createElement("template");
          parsed.innerHTML = html;
          fetchedAgents = parsed.content;
          var active = document.activeElement;
          if (active && active.matches && active.matches(AGENT_SELECTS)) fillAgents(active);
          fillWhenIdle();
        })
        .catch(function () { askedAgents = false; });  // asked again on the next focus or load
    }
    return null;
  }
  function fillAgents(select) {
    var source = agentOptions();
    if (!source || select._agentsFilled) return;
    select._agentsFilled = true;
    var value = select.value, fragment = source.cloneNode(true);
    Array.prototype.forEach.call(fragment.querySelectorAll("option"), function (option) {
      var rendered = select.querySelector("option[value='" + CSS.escape(option.value) + "']");
      if (rendered) rendered.remove();  // the saved agent takes its place in the page's order
    });
    select.appendChild(fragment);
    select.value = value;
  }
  var idleFill = null;
  function fillWhenIdle() {
    if (idleFill) return;
    var later = window.requestIdleCallback || function (fn) { return setTimeout(fn, 50); };
    idleFill = later(function step() {
      if (!agentOptions()) { idleFill = null; return; }  // on their way: their arrival starts this again
      var pending = Array.prototype.filter.call(document.querySelectorAll(AGENT_SELECTS), function (s) { return !s._agentsFilled; });
      pending.slice(0, 10).forEach(fillAgents);
      idleFill = pending.length > 10 ? later(step) : null;
    });
  }
  htmx.onLoad(fillWhenIdle);
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches(AGENT_SELECTS)) fillAgents(event.target);
  }, true);

  // The owned list's dates carry their UTC instant in datetime only (presenters.instant_html, compact);
  // the title that shows it on hover is written when the pointer first reaches one.
  document.addEventListener("pointerover", function (event) {
    var time = event.target.closest && event.target.closest("time[datetime]:not([title])");
    if (time) time.title = time.getAttribute("datetime").replace("T", " ").replace("Z", " UTC");
  });

  var lastKey = 0, lastPointer = 0;
  // "Not saved" beside a dropdown with an unsaved choice: made the first time it is needed (a row does
  // not carry it), and named as the dropdown's description.
  function agentHint(select, make) {
    var id = select.id.replace(/^agent-/, "agent-hint-"), hint = document.getElementById(id);
    if (hint || !make) return hint;
    hint = document.createElement("span");
    hint.id = id;
    hint.className = "agent-hint";
    hint.innerHTML = 'Not saved: <button type="submit" class="small primary">Save</button> or Enter; Escape undoes.';
    select.insertAdjacentElement("afterend", hint);
    var described = (select.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf(id) < 0) select.setAttribute("aria-describedby", [id].concat(described).join(" "));
    return hint;
  }
  function setDirty(select, dirty) {
    select.classList.toggle("dirty", dirty);
    var hint = agentHint(select, dirty);
    if (hint) hint.hidden = !dirty;
  }
  function commitAgent(select) {
    setDirty(select, false);
    select.form.requestSubmit();  // htmx sends the form (its submit event), never the browser
  }
  document.body.addEventListener("pointerdown", function (event) {
    var select = event.target.closest && event.target.closest(AGENT_SELECTS);
    if (select) fillAgents(select);
    if (select && select.matches("[data-agent-select]")) lastPointer = Date.now();
  }, true);
  document.body.addEventListener("keydown", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-agent-select]")) return;
    if (event.key === "Enter") {
      event.preventDefault();
      if (select.value !== select.dataset.saved) commitAgent(select);
    } else if (event.key === "Escape") {
      if (select.value !== select.dataset.saved) {
        event.preventDefault();
        select.value = select.dataset.saved;
        setDirty(select, false);
      }
    } else if (event.key !== "Tab" && event.key !== "Shift") {
      lastKey = Date.now();
    }
  });
  document.body.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-agent-select]")) return;
    var byKeyboard = lastKey > lastPointer && Date.now() - lastKey < 1000;
    if (select.value === select.dataset.saved) setDirty(select, false);
    else if (byKeyboard) setDirty(select, true);
    else commitAgent(select);
  });

  // ---- Dialogs: the server answers with a <dialog data-modal>; open it, remove it when closed.
  function openDialogs(root) {
    var dialogs = root.matches && root.matches("dialog[data-modal]") ? [root] : [];
    dialogs = dialogs.concat(Array.prototype.slice.call(root.querySelectorAll ? root.querySelectorAll("dialog[data-modal]") : []));
    dialogs.forEach(function (dialog) {
      if (dialog.open) return;
      // A dialog that answers from inside another of its kind (the preview again, unassigning first) replaces it.
      if (dialog.id) {
        document.querySelectorAll("dialog[data-modal]").forEach(function (other) {
          if (other !== dialog && other.id === dialog.id && other.open) other.close();
        });
      }
      dialog.addEventListener("close", function () { dialog.remove(); });
      var opener = document.activeElement, role = roleOf(opener);
      if (role) { dialog.dataset.openerRole = role; dialog.dataset.openerId = opener.id || ""; }
      dialog.showModal();
      var focus = dialog.querySelector("[autofocus]") || dialog.querySelector("select, input:not([type=hidden]), button.primary, button");
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

  // ---- The app's own refusals (a 403 for a role or a stale page) swap nothing and say why in a toast
  // (HX-Reswap: none). In DEBUG, django-htmx's script on `document` replaces the page with any 403;
  // it is for Django's error pages, so these answers stop on <body> before they reach it.
  document.body.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.getResponseHeader("HX-Reswap") === "none") event.stopPropagation();
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
    if (!input.matches || !input.matches("form.tag-editor input[data-tags-input]")) return;
    if (event.key === "Escape") {
      event.preventDefault();
      var cancel = input.form.querySelector("[data-cancel]");
      if (cancel) cancel.click();
    }
  });
  document.body.addEventListener("htmx:confirm", function (event) {
    // Stop a tag form with a rule broken before it is sent; the message is already beside the field.
    var form = event.target;
    if (form.matches && form.querySelector && form.querySelector("input[data-tags-input]")) {
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

  // ---- Phones: the header's menu and the owned list's filters fold behind a button each
  // (templates/base.html, templates/numbers/list.html); at desktop widths the buttons are hidden.
  function folding(button, panel) {
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      panel.classList.toggle("open", open);
    });
  }
  var menuButton = document.querySelector("[data-menu-toggle]");
  var menu = document.getElementById("site-menu");
  if (menuButton && menu) {
    folding(menuButton, menu);
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.classList.contains("open")) {
        menuButton.click();
        menuButton.focus();
      }
    });
  }
  var filtersButton = document.querySelector("[data-filters-toggle]");
  var filtersForm = filtersButton && document.getElementById(filtersButton.getAttribute("aria-controls"));
  if (filtersButton && filtersForm) {
    folding(filtersButton, filtersForm);
    filtersForm.addEventListener("input", function () {
      var n = 0;
      filtersForm.querySelectorAll("input[name], select[name]").forEach(function (field) {
        if (field.value.trim()) n += 1;
      });
      filtersButton.querySelector("[data-filters-count]").textContent = String(n);
    });
  }
})();
