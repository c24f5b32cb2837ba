// attnlab serve: the script of every page. Live pages poll the server's
// live version and swap in fresh copies of their [data-fragment] parts
// when it changes; heatmaps show the weight under the pointer.
(function () {
  "use strict";

  function initHeatmaps(root) {
    root.querySelectorAll("figure.heatmap-box").forEach(function (fig) {
      if (fig.dataset.ready) return;
      fig.dataset.ready = "1";
      var tip = fig.querySelector(".tip");
      var svg = fig.querySelector("svg.heatmap");
      if (!tip || !svg) return;
      // The script's tip replaces the browser's slow title tooltips.
      svg.querySelectorAll("rect > title").forEach(function (t) { t.remove(); });
      svg.addEventListener("mousemove", function (e) {
        var t = e.target;
        if (!t || t.tagName !== "rect") { tip.hidden = true; return; }
        tip.textContent = "output: " + t.dataset.output + "\nsource: " + t.dataset.source + "\nweight: " + t.dataset.weight;
        var box = fig.getBoundingClientRect();
        var x = e.clientX - box.left + 14, y = e.clientY - box.top + 14;
        if (x + 200 > box.width) x = Math.max(0, x - 230);
        tip.style.left = x + "px";
        tip.style.top = y + "px";
        tip.hidden = false;
      });
      svg.addEventListener("mouseleave", function () { tip.hidden = true; });
    });
  }

  // Selects of a query form apply at once; text fields on Enter or the button.
  // A comparison grouped by several keys keeps them all at the left as it
  // scrolls sideways while they take at most 60 % of its box (more would
  // leave no room for the numbers): CSS sticks the first at left 0, the
  // others need the measured widths of those before them.
  function stickKeys(root) {
    root.querySelectorAll("table.cmp").forEach(function (t) {
      var head = t.tHead && t.tHead.rows[0];
      if (!head) return;
      var most = t.parentElement.clientWidth * 0.6, left = 0, lefts = [];
      for (var i = 0; i < head.cells.length && head.cells[i].classList.contains("key"); i++) {
        if (i > 0 && left + head.cells[i].getBoundingClientRect().width > most) break;
        lefts.push(left);
        left += head.cells[i].getBoundingClientRect().width; // offsetWidth rounds: stuck keys would drift a pixel each
      }
      Array.prototype.forEach.call(t.rows, function (row) {
        for (var i = 1; i < row.cells.length && row.cells[i].classList.contains("key"); i++) {
          var stuck = i < lefts.length;
          row.cells[i].classList.toggle("stuck", stuck);
          row.cells[i].style.left = stuck ? lefts[i] + "px" : "";
        }
      });
    });
  }

  function initForms() {
    document.querySelectorAll("form.query select").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
  }

  function initLive() {
    var body = document.body;
    var live = body.dataset.live;
    if (!live) return;
    var version = body.dataset.liveV;
    var poll = Number(body.dataset.poll) || 3000;
    var slow = false;
    var dot = document.getElementById("live");

    function refresh(state) {
      // A page that says the database file is gone is loaded again whole.
      if (body.dataset.reload !== undefined) { location.reload(); return Promise.resolve(); }
      var jobs = [];
      document.querySelectorAll("[data-fragment]").forEach(function (el) {
        var u = new URL(location.href);
        u.hash = "";
        u.searchParams.set("fragment", el.dataset.fragment);
        jobs.push(fetch(u, { cache: "no-store" }).then(function (r) {
          return r.ok ? r.text() : null;
        }).then(function (html) {
          if (html === null) return;
          var open = [];
          el.querySelectorAll("details").forEach(function (d) { open.push(d.open); });
          el.innerHTML = html;
          el.querySelectorAll("details").forEach(function (d, i) { if (i < open.length) d.open = open[i]; });
          initHeatmaps(el);
          stickKeys(el);
        }));
      });
      document.dispatchEvent(new CustomEvent("attnlab:changed", { detail: state }));
      return Promise.all(jobs);
    }

    function tick() {
      if (document.hidden) { schedule(); return; }
      fetch(live, { cache: "no-store", headers: { Accept: "application/json" } }).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (state) {
        if (!state) return;
        slow = !state.active;
        if (dot) dot.hidden = !state.active;
        if (state.v !== version) {
          version = state.v;
          body.dataset.liveV = version;
          return refresh(state);
        }
      }).catch(function () { slow = true; }).then(schedule);
    }

    function schedule() { setTimeout(tick, slow ? poll * 5 : poll); }
    schedule();
  }

  function init() {
    initHeatmaps(document);
    stickKeys(document);
    var frame = 0;
    window.addEventListener("resize", function () {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(function () { stickKeys(document); });
    });
    initForms();
    initLive();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
