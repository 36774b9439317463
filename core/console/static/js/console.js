/* tousu console: the page's behaviour, from this file only (the Content-Security-Policy
   allows no inline script). Double-submit protection, keyboard shortcuts, the live queue
   and ticket page. */
(function () {
  "use strict";

  // A form's buttons are disabled once it is sent (no double submission).
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f.dataset.sent) { e.preventDefault(); return; }
    f.dataset.sent = "1";
    setTimeout(function () {
      f.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  // Saving a view saves the filters in the address bar now (a search typed since the page
  // loaded included: it updates the address without reloading the page).
  document.addEventListener("submit", function (e) {
    if (e.target.id !== "save-view") { return; }
    var params = new URLSearchParams(window.location.search);
    params.delete("page");
    e.target.querySelector("[name=query]").value = params.toString();
  }, true);

  // Confirmation for forms that ask for it (data-confirm), e.g. bulk decisions.
  document.addEventListener("submit", function (e) {
    var f = e.target, text = f.dataset.confirm;
    if (text && !window.confirm(text)) { e.preventDefault(); e.stopImmediatePropagation(); delete f.dataset.sent; }
  }, true);

  // "Select all" checkboxes: data-select-all="<name>" ticks every box of that name in its form.
  document.addEventListener("change", function (e) {
    var box = e.target;
    // no form (its list is empty, so the page has none): nothing to tick
    if (!box.dataset || !box.dataset.selectAll || !box.form) { return; }
    // form.elements: the boxes may sit outside the form (form="…"), as in a table's rows
    Array.prototype.forEach.call(box.form.elements, function (b) {
      if (b.type === "checkbox" && b.name === box.dataset.selectAll) { b.checked = box.checked; }
    });
  });

  // Something typed into a form on this page: a live change must not reload it away.
  var dirty = false;
  document.addEventListener("input", function (e) {
    if (e.target.closest && e.target.closest("form") && !e.target.closest("form[method=get]")) { dirty = true; }
  });

  // Live: the queue's change check sends "since" = the stamp of the rows on screen.
  document.addEventListener("htmx:configRequest", function (e) {
    var el = e.detail.elt;
    if (el.id === "live-queue") {
      var rows = document.getElementById("queue-results");
      e.detail.parameters.since = rows ? rows.dataset.since : "";
    }
  });
  // Live ticket page: a change by someone else reloads the page unless the reader has a form
  // open or typed something; then the notice stays with its reload link.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target.id !== "live-ticket") { return; }
    var notice = e.detail.target.querySelector("[data-changed]");
    if (!notice) { return; }
    var open = document.querySelector("details.action[open], details[open] form");
    if (!dirty && !open) { window.location.reload(); }
  });
  // The queue remembers its order so "next ticket" works on a ticket page.
  function rememberQueue() {
    var links = document.querySelectorAll("#queue a[data-ticket]");
    if (!links.length) { return; }
    var ids = Array.prototype.map.call(links, function (a) { return a.getAttribute("href"); });
    try { sessionStorage.setItem("tousu-queue", JSON.stringify(ids)); } catch (err) { /* private mode */ }
  }
  document.addEventListener("DOMContentLoaded", rememberQueue);
  document.addEventListener("htmx:afterSettle", rememberQueue);

  // Keyboard shortcuts (listed on /help): j / k next / previous ticket, Enter opens it,
  // n new complaint, / search, ? help. Never while typing in a field.
  function typing(t) {
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  function go(href) { if (href) { window.location.assign(href); } }
  function move(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll("#queue a[data-ticket]"));
    if (links.length) {
      var i = links.indexOf(document.activeElement);
      var next = links[Math.max(0, Math.min(links.length - 1, i < 0 ? 0 : i + step))];
      next.focus();
      return;
    }
    var ids = [];
    try { ids = JSON.parse(sessionStorage.getItem("tousu-queue") || "[]"); } catch (err) { ids = []; }
    var here = ids.indexOf(window.location.pathname);
    if (here >= 0 && ids[here + step]) { go(ids[here + step]); }
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) { return; }
    if (e.key === "j") { e.preventDefault(); move(1); }
    else if (e.key === "k") { e.preventDefault(); move(-1); }
    else if (e.key === "n") { if (document.querySelector("a[href='/tickets/new']")) { e.preventDefault(); go("/tickets/new"); } }
    else if (e.key === "/") {
      var q = document.getElementById("q");
      e.preventDefault();
      if (q) { q.focus(); q.select(); } else { go("/?focus=q"); }
    }
    else if (e.key === "?") { e.preventDefault(); go("/help"); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (/[?&]focus=q\b/.test(window.location.search)) {
      var q = document.getElementById("q");
      if (q) { q.focus(); }
    }
  });
})();
