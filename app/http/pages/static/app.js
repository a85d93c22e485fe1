// thidua pages: a few lines, no build step. Live version polling, running totals, quorum, print.
// The pages' Content-Security-Policy allows no inline script or handler: behaviour goes here.
(function () {
  "use strict";
  var dirty = false;
  document.addEventListener("input", function () { dirty = true; });
  // The header's task count (base.html): set from the cycle pages' version poll, or polled
  // alone (`/viec-can-lam/so-viec`) on the pages that have no cycle; the tasks page reloads
  // when its list changed (unless the person has typed).
  var badge = document.querySelector("[data-inbox-count]");
  function inbox(n) {
    if (!badge || n === null || n === undefined || String(n) === badge.getAttribute("data-inbox-count")) return;
    badge.setAttribute("data-inbox-count", String(n));
    badge.textContent = String(n);
    var sr = document.createElement("span"); sr.className = "sr-only"; sr.textContent = " việc";
    badge.appendChild(sr);
    badge.hidden = !(Number(n) > 0);
  }
  // Live update: poll the cycle's version; reload when it moved past the version shown (unless
  // the person is typing). The polled version (a read model) may lag the page: never reload for that.
  var live = document.querySelector("[data-version-url]");
  if (live) {
    var seen = live.getAttribute("data-version");
    var note = document.getElementById("live-note");
    setInterval(function () {
      fetch(live.getAttribute("data-version-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (b) {
          if (b) inbox(b.inbox);
          if (!b || !(Number(b.version) > Number(seen))) return;
          if (!dirty) { window.location.reload(); return; }
          if (note) { note.hidden = false; }
        }).catch(function () {});
    }, 3000);
  }
  var stamped = document.querySelector("[data-inbox-stamp]");
  if (badge && !live) {
    setInterval(function () {
      fetch("/viec-can-lam/so-viec", {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (b) {
          if (!b) return;
          inbox(b.inbox);
          if (stamped && b.stamp !== undefined && b.stamp !== stamped.getAttribute("data-inbox-stamp") && !dirty) {
            window.location.reload();
          }
        }).catch(function () {});
    }, 5000);
  }
  function num(v) { v = (v || "").replace(/\s/g, "").replace(",", "."); var n = Number(v); return isFinite(n) ? n : 0; }
  // As app/words.py writes numbers: a comma before the decimals, a dot between thousands.
  function vn(n) {
    var r = Math.round(n * 100) / 100, parts = Math.abs(r).toString().split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return (r < 0 ? "-" : "") + parts.join(",");
  }
  // Running total of a score form.
  document.querySelectorAll("form[data-total]").forEach(function (f) {
    var out = f.querySelector("[data-total-out]");
    function update() {
      var t = 0;
      f.querySelectorAll("input[data-score]").forEach(function (i) { t += num(i.value); });
      if (out) out.textContent = vn(t);
    }
    f.addEventListener("input", update); update();
  });
  // Quorum as it is ticked.
  document.querySelectorAll("form[data-quorum]").forEach(function (f) {
    var out = f.querySelector("[data-present-out]");
    function update() {
      var n = f.querySelectorAll("input[type=radio][value=present]:checked").length;
      if (out) out.textContent = n;
    }
    f.addEventListener("change", update); update();
  });
  // A print button (the result page).
  document.querySelectorAll("button[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
})();
