// attnlab serve: the curves page. It fetches the lines from the server
// (already downsampled there, each line keeping its minima and maxima) and
// draws them with uPlot: one line per run, or each group's mean in its
// min–max (or ± std) band; drag to zoom, double-click to zoom out, hover for
// values, a log-scale toggle. It redraws when the live version changes.
(function () {
  "use strict";
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"];

  function rgba(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16 & 255) + "," + (n >> 8 & 255) + "," + (n & 255) + "," + a + ")";
  }

  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "—";
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
    return String(Number(v.toPrecision(5)));
  }

  function size(el) {
    var w = Math.max(240, Math.floor(el.clientWidth));
    return { width: w, height: Math.round(Math.min(440, Math.max(220, w * 0.5))) };
  }

  function getJSON(url) {
    return fetch(url, { cache: "no-store", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.error || ("HTTP " + r.status));
        return j;
      });
    });
  }

  // chart draws one dataset: x and lines {label, y, lo?, hi?}.
  function chart(opts) {
    var el = opts.el, tip = opts.tip, legend = opts.legend;
    var plot = null, lines = [], values = [];

    function build(d) {
      var cols = [d.x];
      var series = [{ label: opts.xlabel, value: function (u, v) { return opts.xvalue ? opts.xvalue(v) : fmt(v); } }];
      var bands = [];
      lines = [];
      d.series.forEach(function (s, i) {
        var c = palette[i % palette.length];
        var yi = cols.length;
        cols.push(s.y);
        series.push({ label: s.label, stroke: c, width: d.series.length > 40 ? 1 : 1.6, spanGaps: true,
          points: { show: opts.points || d.x.length <= 40, size: 5 } });
        var line = { label: s.label, color: c, idx: [yi], runs: s.runs };
        if (s.lo && s.hi) {
          cols.push(s.lo, s.hi);
          series.push({ label: s.label + " (low)", stroke: rgba(c, 0.25), width: 0.5, spanGaps: true, points: { show: false } });
          series.push({ label: s.label + " (high)", stroke: rgba(c, 0.25), width: 0.5, spanGaps: true, points: { show: false } });
          bands.push({ series: [yi + 2, yi + 1], fill: rgba(c, 0.15) });
          line.idx.push(yi + 1, yi + 2);
        }
        lines.push(line);
      });
      return { cols: cols, series: series, bands: bands };
    }

    function showTip(u) {
      var i = u.cursor.idx;
      if (i === null || i === undefined || u.cursor.left < 0) { tip.hidden = true; return; }
      var x = u.data[0][i];
      var rows = [];
      var focus = -1;
      lines.forEach(function (l, k) { if (l.idx[0] === opts.focused) focus = k; });
      var show = focus >= 0 ? [focus] : lines.map(function (l, k) { return k; });
      var n = 0;
      show.forEach(function (k) {
        var l = lines[k];
        if (!u.series[l.idx[0]].show) return;
        var v = u.data[l.idx[0]][i];
        if (v === null || v === undefined) return;
        if (n++ >= 8) return;
        var t = l.label + ": " + fmt(v);
        if (l.idx.length === 3) t += " [" + fmt(u.data[l.idx[1]][i]) + ", " + fmt(u.data[l.idx[2]][i]) + "]";
        rows.push(t);
      });
      if (n > 8) rows.push("… " + (n - 8) + " more (hover a line)");
      if (rows.length === 0) { tip.hidden = true; return; }
      tip.textContent = opts.xlabel + " " + (opts.xvalue ? opts.xvalue(x) : fmt(x)) + "\n" + rows.join("\n");
      var over = u.over.getBoundingClientRect(), box = el.parentNode.getBoundingClientRect();
      var left = over.left - box.left + u.cursor.left + 14, top = over.top - box.top + u.cursor.top + 14;
      if (left + 240 > box.width) left = Math.max(0, left - 260);
      tip.style.left = left + "px";
      tip.style.top = top + "px";
      tip.hidden = false;
      values.forEach(function (span, k) {
        var v = u.data[lines[k].idx[0]][i];
        span.textContent = fmt(v);
      });
    }

    function drawLegend(u) {
      legend.textContent = "";
      values = [];
      lines.forEach(function (l) {
        var li = document.createElement("li");
        var sw = document.createElement("span");
        sw.className = "swatch";
        sw.style.background = l.color;
        var name = document.createElement("span");
        name.textContent = l.label;
        var val = document.createElement("span");
        val.className = "lv";
        li.append(sw, name, val);
        li.title = "click to hide or show";
        li.addEventListener("click", function () {
          var on = !u.series[l.idx[0]].show;
          l.idx.forEach(function (j) { u.setSeries(j, { show: on }); });
          li.classList.toggle("off", !on);
        });
        legend.append(li);
        values.push(val);
      });
    }

    function draw(d, keep) {
      var b = build(d);
      if (plot && keep && plot.series.length === b.series.length) {
        // New points of a live run: follow them, unless the user zoomed in.
        var x = plot.data[0], xs = plot.scales.x;
        var whole = !x.length || (xs.min <= x[0] && xs.max >= x[x.length - 1]);
        plot.setData(b.cols, whole);
        return;
      }
      if (plot) plot.destroy();
      var sz = size(el);
      var log = opts.log && opts.log();
      var cfg = {
        width: sz.width, height: sz.height,
        series: b.series, bands: b.bands,
        legend: { show: false },
        scales: { x: { time: false }, y: { distr: log ? 3 : 1 } },
        axes: [
          { label: opts.xlabel, labelSize: 20, size: 40, values: opts.xticks },
          { label: opts.ylabel(d), labelSize: 20, size: 56, values: function (u, ticks) { return ticks.map(function (t) { return t === null || t === undefined ? "" : fmt(t); }); } }
        ],
        cursor: { focus: { prox: 16 }, drag: { x: true, y: false } },
        focus: { alpha: 0.35 },
        hooks: {
          setCursor: [showTip],
          setSeries: [function (u, i) { opts.focused = i; }],
          // The x range shown, for tests and for anyone reading the DOM.
          setScale: [function (u, key) { if (key === "x") el.dataset.xMax = u.scales.x.max; }]
        }
      };
      if (opts.xrange) cfg.scales.x.range = opts.xrange;
      if (opts.xincrs) cfg.axes[0].incrs = opts.xincrs;
      if (opts.yrange) cfg.scales.y.range = opts.yrange;
      plot = new uPlot(cfg, b.cols, el);
      plot.over.addEventListener("mouseleave", function () { tip.hidden = true; });
      drawLegend(plot);
    }

    window.addEventListener("resize", function () {
      if (plot) plot.setSize(size(el));
    });
    return { draw: draw, redraw: function (d) { draw(d, false); } };
  }

  function curves() {
    var el = document.getElementById("chart");
    if (!el) return;
    var note = document.getElementById("chart-note");
    var title = document.getElementById("chart-title");
    var logBox = document.getElementById("log");
    var data = null;
    var c = chart({
      el: el, tip: document.getElementById("tip"), legend: document.getElementById("legend"), xlabel: "step",
      ylabel: function (d) { return d.metric + (logBox && logBox.checked && d.positive ? " (log)" : ""); },
      log: function () { return logBox && logBox.checked && data && data.positive; }
    });
    function describe(d) {
      var parts = [];
      if (d.view === "mean") parts.push("mean over each group's runs, band " + (d.band === "std" ? "± std" : "min–max"));
      else parts.push("one line per run");
      if (d.width > 0) parts.push("downsampled on the server: each line keeps its min and max in every " + d.width + " steps");
      if (d.direction !== "none") parts.push(d.direction + " is better");
      if (logBox && logBox.checked && !d.positive) parts.push("log scale off: some values are ≤ 0");
      if (d.missing && d.missing.length) parts.push("no values yet: " + d.missing.join(", "));
      note.textContent = parts.join(" · ") + ".";
      title.textContent = d.metric + (d.doc ? " — " + d.doc : "");
    }
    function load(keep) {
      return getJSON(el.dataset.src).then(function (d) {
        data = d;
        // What the chart shows, for tests and for anyone reading the DOM.
        el.dataset.points = d.x.length;
        el.dataset.lastStep = d.x.length ? d.x[d.x.length - 1] : "";
        describe(d);
        c.draw(d, keep);
      }).catch(function (e) {
        note.textContent = String(e.message || e);
        note.className = "error";
      });
    }
    if (logBox) {
      logBox.addEventListener("change", function () {
        var u = new URL(location.href);
        if (logBox.checked) u.searchParams.set("log", "1"); else u.searchParams.delete("log");
        history.replaceState(null, "", u);
        if (data) { describe(data); c.redraw(data); }
      });
    }
    document.addEventListener("attnlab:changed", function () { load(true); });
    load(false);
  }

  function lengths() {
    var el = document.getElementById("length");
    if (!el) return;
    var note = document.getElementById("length-note");
    getJSON(el.dataset.src).then(function (d) {
      if (!d.buckets.length) {
        el.hidden = true;
        note.textContent = "These runs have no exact match by source length (test/exact_match/len_* summaries come from the test decoding of sequence-to-sequence runs that are done).";
        return;
      }
      var x = d.buckets.map(function (b, i) { return i; });
      var c = chart({
        el: el, tip: document.getElementById("length-tip"), legend: document.getElementById("length-legend"),
        xlabel: "source length", points: true,
        ylabel: function () { return "exact match"; },
        xvalue: function (v) { return d.buckets[v] === undefined ? "" : d.buckets[v]; },
        xticks: function (u, ticks) { return ticks.map(function (t) { return d.buckets[t] === undefined ? "" : d.buckets[t]; }); },
        xrange: [-0.4, d.buckets.length - 0.6], xincrs: [1], yrange: [0, 1]
      });
      c.draw({ x: x, series: d.series }, false);
      var parts = ["test exact match per source-length bucket: mean over each group's runs, band min–max"];
      if (d.missing && d.missing.length) parts.push("no buckets: " + d.missing.join(", "));
      note.textContent = parts.join(" · ") + ".";
    }).catch(function (e) {
      note.textContent = String(e.message || e);
      note.className = "error";
    });
  }

  function init() { curves(); lengths(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
