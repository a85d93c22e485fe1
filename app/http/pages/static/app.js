// thidua pages: a few lines, no build step. Live update, running totals, quorum, print.
// The pages' Content-Security-Policy allows no inline script or handler: behaviour goes here.
(function () {
  "use strict";
  // A form the person has typed in is "dirty": the live update keeps it as it is.
  document.addEventListener("input", function (e) {
    var f = e.target && e.target.closest ? e.target.closest("form") : null;
    if (f) f.setAttribute("data-dirty", "1");
  });
  // After a refused form (Post/Redirect/Get to ?loi=…#form-errors): focus the errors' summary.
  var summary = document.getElementById("form-errors");
  if (summary) summary.focus();

  // The header's task count (base.html): set from the cycle pages' version poll, or polled
  // alone (`/viec-can-lam/so-viec`) on the pages that have no cycle; the tasks page fetches
  // itself again when its list changed (unless the person has typed in a form).
  var badge = document.querySelector("[data-inbox-count]");
  function inbox(n) {
    if (!badge || n === null || n === undefined || String(n) === badge.getAttribute("data-inbox-count")) return;
    badge.setAttribute("data-inbox-count", String(n));
    badge.textContent = String(n);
    var sr = document.createElement("span"); sr.className = "sr-only"; sr.textContent = " việc";
    badge.appendChild(sr);
    badge.hidden = !(Number(n) > 0);
  }
  var stamped = document.querySelector("[data-inbox-stamp]");
  if (badge && !document.querySelector("[data-version-url]")) {
    setInterval(function () {
      fetch("/viec-can-lam/so-viec", {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (b) {
          if (!b) return;
          inbox(b.inbox);
          if (stamped && b.stamp !== undefined && b.stamp !== stamped.getAttribute("data-inbox-stamp")
              && !document.querySelector("form[data-dirty]")) {
            window.location.reload();  // a GET page (every form is Post/Redirect/Get)
          }
        }).catch(function () {});
    }, 5000);
  }

  // A score as the server reads it (app/http/pages/core.py parse_score and the rules of
  // domain/rules/scoring.py): "583,5" or "583.5", 0 ≤ score ≤ the section's maximum, at most
  // the sheet's decimals (the form's data-decimals, 2 by default). Returns {value} or {error}.
  // The sentences are the server's (app/words.py), on the total's output element.
  function score(raw, max, maxText, say, places) {
    var v = (raw || "").replace(/\s/g, "").replace(",", ".");
    if (!v) return {error: "missing"};
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(v)) return {error: say("not_a_number")};
    var n = Number(v);
    if (n < 0) return {error: say("score_negative")};
    if (max !== null && n > max) return {error: say("score_above_max").replace("{max}", maxText)};
    var dec = v.indexOf(".") < 0 ? "" : v.split(".")[1].replace(/0+$/, "");
    if (dec.length > places) return {error: say("too_many_decimals")};
    return {value: n};
  }
  // As app/words.py writes numbers: a comma before the decimals, a dot between thousands.
  function vn(n) {
    var r = Math.round(n * 100) / 100, parts = Math.abs(r).toString().split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return (r < 0 ? "-" : "") + parts.join(",");
  }

  function setup(root) {
    // Running total of a score form: only of what the server would accept; a field it would
    // refuse is marked and named (the total says it is incomplete).
    root.querySelectorAll("form[data-total]").forEach(function (f) {
      if (f.getAttribute("data-ready")) return;
      f.setAttribute("data-ready", "1");
      var out = f.querySelector("[data-total-out]");
      function say(code) { return (out && out.getAttribute("data-" + code)) || code; }
      var places = Number(f.getAttribute("data-decimals") || 2);
      // on the first run (the page as served) the server's own errors stand; messages follow typing
      function update(e) {
        var t = 0, bad = 0, empty = 0, typing = !!(e && e.type);
        f.querySelectorAll("input[data-score]").forEach(function (i) {
          var max = i.getAttribute("data-max"), msg = i.parentNode.querySelector("[data-js-error]");
          var s = score(i.value, max === null ? null : Number(max), i.getAttribute("data-max-vn"), say, places);
          var blank = !(i.value || "").trim();
          if (s.error && !blank) {
            bad += 1;
            i.setAttribute("data-invalid", "1");
            if (msg && typing) { msg.textContent = s.error; msg.hidden = false; }
          } else {
            i.removeAttribute("data-invalid");
            if (msg) { msg.textContent = ""; msg.hidden = true; }
          }
          if (blank) empty += 1;
          if (!s.error) t += s.value;
        });
        if (!out) return;
        out.setAttribute("data-valid", bad ? "0" : "1");
        out.textContent = bad ? "chưa tính được (" + bad + " ô chưa hợp lệ)" :
          vn(t) + (empty ? " (còn " + empty + " ô chưa nhập)" : "");
      }
      f.addEventListener("input", update); update();
    });
    // Quorum as it is ticked.
    root.querySelectorAll("form[data-quorum]").forEach(function (f) {
      if (f.getAttribute("data-ready")) return;
      f.setAttribute("data-ready", "1");
      var out = f.querySelector("[data-present-out]");
      function update() {
        var n = f.querySelectorAll("input[type=radio][value=present]:checked").length;
        if (out) out.textContent = n;
      }
      f.addEventListener("change", update); update();
    });
    // A print button (the result page).
    root.querySelectorAll("button[data-print]").forEach(function (b) {
      if (b.getAttribute("data-ready")) return;
      b.setAttribute("data-ready", "1");
      b.addEventListener("click", function () { window.print(); });
    });
  }
  setup(document);

  // Live update: poll the cycle's version; when it moved past the version shown, fetch the
  // page again with GET (never a reload: a reload could send a form again) and put its main
  // part in place, keeping every form the person has typed in or that shows an error, with
  // what was typed and the focus. When such a form is gone from the new page (the stage moved
  // on), say so instead. The polled version (a read model) may lag the page: never update
  // for that.
  var live = document.querySelector("[data-version-url]");
  if (!live) return;
  var url = live.getAttribute("data-version-url");
  var seen = Number(live.getAttribute("data-version"));
  var busy = false;
  function note() {
    var n = document.getElementById("live-note");
    if (n) n.hidden = false;
  }
  function refresh() {
    busy = true;
    return fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("main"), cur = document.querySelector("main");
        var v = doc.querySelector("[data-version-url]");
        if (!fresh || !cur || !v) return;
        var keep = [];
        var lost = false;
        cur.querySelectorAll("form[id]").forEach(function (f) {
          if (!f.getAttribute("data-dirty") && !f.querySelector(".error[data-code]")) return;
          var twin = fresh.querySelector("#" + CSS.escape(f.id));
          if (twin) keep.push([f, twin]);
          else if (f.getAttribute("data-dirty")) lost = true;
        });
        if (lost) { note(); return; }
        var active = document.activeElement, start = null, end = null;
        try { start = active.selectionStart; end = active.selectionEnd; } catch (e) { /* no text */ }
        fresh = document.adoptNode(fresh);
        keep.forEach(function (p) { p[1].replaceWith(p[0]); });
        var summary = document.getElementById("form-errors");
        var freshSummary = fresh.querySelector("#form-errors");
        if (summary && !freshSummary) {
          var at = fresh.querySelector("[data-version-url]");
          if (at) at.after(summary);
        }
        cur.replaceWith(fresh);
        document.title = doc.title;
        seen = Number(v.getAttribute("data-version"));
        setup(fresh);
        if (active && active !== document.body && fresh.contains(active)) {
          active.focus({preventScroll: true});
          if (start !== null) { try { active.setSelectionRange(start, end); } catch (e) { /* not text */ } }
        }
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  setInterval(function () {
    if (busy) return;
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (b) {
        if (b) inbox(b.inbox);
        if (!b || !(Number(b.version) > seen) || busy) return;
        return refresh();
      }).catch(function () {});
  }, 3000);
})();
