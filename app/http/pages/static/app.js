// thidua pages: a few lines, no build step. Live version polling, running totals, quorum, print.
// The pages' Content-Security-Policy allows no inline script or handler: behaviour goes here.
(function () {
  "use strict";
  var dirty = false;
  document.addEventListener("input", function () { dirty = true; });
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
          if (!b || !(Number(b.version) > Number(seen))) return;
          if (!dirty) { window.location.reload(); return; }
          if (note) { note.hidden = false; }
        }).catch(function () {});
    }, 3000);
  }
  function num(v) { v = (v || "").replace(/\s/g, "").replace(",", "."); var n = Number(v); return isFinite(n) ? n : 0; }
  function vn(n) { return (Math.round(n * 100) / 100).toString().replace(".", ","); }
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
