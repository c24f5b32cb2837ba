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

  // tickLabels formats an axis's ticks alike: every one as a plain number
  // ("0.01", "0.5", "20") or, when one needs an exponent (below 0.001 or
  // from 10^6, where fmt writes one), every one with an exponent ("1e-4",
  // "5e-3", "1e-2"), with the digits it needs: a log scale's decades once
  // read 1.000e-4, 0.001, 0.01.
  function tickLabels(ticks) {
    var exp = ticks.some(function (t) {
      var a = Math.abs(t);
      return t !== null && t !== undefined && a !== 0 && (a < 1e-3 || a >= 1e6);
    });
    return ticks.map(function (t) {
      if (t === null || t === undefined) return "";
      if (exp) return t === 0 ? "0" : Number(t.toPrecision(4)).toExponential().replace("e+", "e");
      return String(Number(t.toPrecision(5)));
    });
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

  // split divides a group's mean into the stretches drawn solid (every run
  // of the group has a value at both ends) and dashed (fewer runs: some
  // stopped early or diverged), as attnlab plot curves draws them. Each
  // result has a value at the points of its stretches, null (a break) at
  // the group's other points and undefined where the group has no point
  // (uPlot joins across undefined, never across null); null where n is 0,
  // no run of the group has a value (a length bucket), so the line breaks
  // there as in attnlab plot length. The band follows the solid stretches.
  function split(s) {
    var n = s.y.length, full = [], part = [], lo = [], hi = [], pts = [], seg = [], g = 0;
    for (var i = 0; i < n; i++) {
      seg.push(g);
      if (s.n[i] === 0) { // no run has a value here (a length bucket): a break
        full.push(null); part.push(null); lo.push(null); hi.push(null);
        g++;
        continue;
      }
      full.push(undefined); part.push(undefined); lo.push(undefined); hi.push(undefined);
      if (s.y[i] !== null && s.y[i] !== undefined) pts.push(i);
    }
    function whole(i) { return s.n[i] === s.nruns; }
    pts.forEach(function (i, k) {
      var left = k > 0 && seg[pts[k - 1]] === seg[i] ? (whole(pts[k - 1]) && whole(i)) : null;
      var right = k + 1 < pts.length && seg[pts[k + 1]] === seg[i] ? (whole(i) && whole(pts[k + 1])) : null;
      var alone = left === null && right === null;
      var solid = left === true || right === true || (alone && whole(i));
      var dashed = left === false || right === false || (alone && !whole(i));
      full[i] = solid ? s.y[i] : null;
      part[i] = dashed ? s.y[i] : null;
      var band = whole(i) && s.lo[i] !== null && s.hi[i] !== null;
      lo[i] = band ? s.lo[i] : null;
      hi[i] = band ? s.hi[i] : null;
    });
    return { full: full, part: part, lo: lo, hi: hi, anyFull: pts.some(whole), anyPart: !pts.every(whole) };
  }

  // chart draws one dataset: x and lines {label, y, lo?, hi?, n?, nruns?}.
  function chart(opts) {
    var el = opts.el, tip = opts.tip, legend = opts.legend;
    var plot = null, lines = [], values = [];

    function build(d) {
      var cols = [d.x];
      var series = [{ label: opts.xlabel, value: function (u, v) { return opts.xvalue ? opts.xvalue(v) : fmt(v); } }];
      var bands = [];
      lines = [];
      d.series.forEach(function (s, i) {
        var c = s.color || palette[i % palette.length];
        var yi = cols.length;
        var width = d.series.length > 40 ? 1 : 1.6;
        var points = { show: opts.points || d.x.length <= 40, size: 5 };
        var line = { label: s.label, color: c, idx: [yi], runs: s.runs, y: s.y, lo: s.lo, hi: s.hi, n: s.n, nruns: s.nruns };
        if (s.n && s.nruns) {
          // A group's mean: solid over its band where all its runs are
          // there, thin and dashed without band where fewer are.
          var sp = split(s);
          line.dashed = !sp.anyFull;
          cols.push(sp.full, sp.lo, sp.hi, sp.part);
          series.push({ label: s.label, stroke: c, width: width, spanGaps: false, points: points });
          series.push({ label: s.label + " (low)", stroke: rgba(c, 0.25), width: 0.5, spanGaps: false, points: { show: false } });
          series.push({ label: s.label + " (high)", stroke: rgba(c, 0.25), width: 0.5, spanGaps: false, points: { show: false } });
          series.push({ label: s.label + " (fewer runs)", stroke: c, width: 1, dash: [5, 4], spanGaps: false, points: points });
          bands.push({ series: [yi + 2, yi + 1], fill: rgba(c, 0.15) });
          line.idx.push(yi + 1, yi + 2, yi + 3);
          line.counts = sp.anyPart;
        } else {
          cols.push(s.y);
          series.push({ label: s.label, stroke: c, width: s.dash ? 1.2 : width, dash: s.dash, spanGaps: !s.dash, points: s.dash ? { show: false } : points });
          line.dashed = !!s.dash;
          if (s.lo && s.hi) {
            cols.push(s.lo, s.hi);
            series.push({ label: s.label + " (low)", stroke: rgba(c, 0.25), width: 0.5, spanGaps: true, points: { show: false } });
            series.push({ label: s.label + " (high)", stroke: rgba(c, 0.25), width: 0.5, spanGaps: true, points: { show: false } });
            bands.push({ series: [yi + 2, yi + 1], fill: rgba(c, 0.15) });
            line.idx.push(yi + 1, yi + 2);
          }
        }
        lines.push(line);
      });
      return { cols: cols, series: series, bands: bands };
    }

    // drawCounts writes "n=2" where a group's dashed mean changes its
    // number of runs, as attnlab plot curves does: above the point, or
    // below it when another label is there; left out when neither place
    // is free or it is within 40 px of the group's previous label (hover
    // tells).
    function drawCounts(u) {
      var ctx = u.ctx, dpr = window.devicePixelRatio || 1, boxes = [];
      ctx.save();
      ctx.font = Math.round(11 * dpr) + "px system-ui, sans-serif";
      ctx.textAlign = "left";
      ctx.textBaseline = "alphabetic";
      var h = 11 * dpr;
      function free(b) {
        return boxes.every(function (o) { return b.x + b.w <= o.x || o.x + o.w <= b.x || b.y + b.h <= o.y || o.y + o.h <= b.y; });
      }
      lines.forEach(function (l) {
        if (!l.counts || !u.series[l.idx[0]].show) return;
        ctx.fillStyle = l.color;
        var prev = null, lastX = -Infinity;
        for (var i = 0; i < l.y.length; i++) {
          var v = l.y[i], k = l.n[i];
          if (k === 0) prev = 0; // a break: count again after it
          if (v === null || v === undefined || k === null) continue;
          var x = u.data[0][i];
          if (k < l.nruns && k !== prev && x >= u.scales.x.min && x <= u.scales.x.max) {
            var px = u.valToPos(x, "x", true) + 3 * dpr, py = u.valToPos(v, "y", true), t = "n=" + k;
            var w = ctx.measureText(t).width;
            var above = { x: px, y: py - 3 * dpr - h, w: w, h: h }, below = { x: px, y: py + 3 * dpr, w: w, h: h };
            var b = free(above) ? above : free(below) ? below : null;
            if (b && px - lastX >= 40 * dpr && boxes.length < 60) {
              ctx.fillText(t, b.x, b.y + h - 2 * dpr);
              boxes.push(b);
              lastX = px;
            }
          }
          prev = k;
        }
      });
      ctx.restore();
    }

    // shade fills the x ranges opts.shade ([[from, to], ...]) behind the
    // lines: the buckets holding the runs' training examples.
    function shade(u) {
      if (!opts.shade) return;
      u.ctx.save();
      u.ctx.fillStyle = "rgba(0,0,0,0.07)";
      opts.shade.forEach(function (s) {
        var x0 = Math.max(u.valToPos(s[0], "x", true), u.bbox.left);
        var x1 = Math.min(u.valToPos(s[1], "x", true), u.bbox.left + u.bbox.width);
        if (x1 > x0) u.ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
      });
      u.ctx.restore();
    }

    function showTip(u) {
      var i = u.cursor.idx;
      if (i === null || i === undefined || u.cursor.left < 0) { tip.hidden = true; return; }
      var x = u.data[0][i];
      var rows = [];
      var focus = -1;
      lines.forEach(function (l, k) { if (l.idx.indexOf(opts.focused) >= 0) focus = k; });
      var show = focus >= 0 ? [focus] : lines.map(function (l, k) { return k; });
      var n = 0;
      show.forEach(function (k) {
        var l = lines[k];
        if (!u.series[l.idx[0]].show) return;
        var v = l.y[i];
        if (v === null || v === undefined) return;
        if (n++ >= 8) return;
        var t = l.label + ": " + fmt(v);
        var some = l.n && l.nruns && l.n[i] !== null && l.n[i] < l.nruns;
        if (l.lo && l.hi && !some) t += " [" + fmt(l.lo[i]) + ", " + fmt(l.hi[i]) + "]";
        if (some) t += " (mean of n=" + l.n[i] + " of " + l.nruns + " runs)";
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
        span.textContent = fmt(lines[k].y[i]);
      });
    }

    function drawLegend(u) {
      legend.textContent = "";
      values = [];
      lines.forEach(function (l) {
        var li = document.createElement("li");
        var sw = document.createElement("span");
        sw.className = "swatch";
        // Dashed when the group never has all its runs at once.
        sw.style.background = l.dashed ? "repeating-linear-gradient(to right, " + l.color + " 0 5px, transparent 5px 8px)" : l.color;
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
          { label: opts.ylabel(d), labelSize: 20, size: 56, values: function (u, ticks) {
            var labels = tickLabels(ticks);
            // The labels drawn, for tests and for anyone reading the DOM.
            el.dataset.yTicks = labels.filter(function (l) { return l !== ""; }).join(" ");
            return labels;
          } }
        ],
        cursor: { focus: { prox: 16 }, drag: { x: true, y: false } },
        focus: { alpha: 0.35 },
        hooks: {
          drawClear: [shade],
          draw: [drawCounts],
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
      if (d.view === "mean" && d.partial) parts.push("dashed, without band: the mean of fewer runs where some have no value (stopped early, diverged or still training), n=… their number");
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
      var series = d.series.slice();
      // The floor is drawn dotted grey, as attnlab plot length draws it.
      if (d.floor) series.push({ label: "majority-answer floor", y: d.floor, color: "#777777", dash: [2, 4] });
      var c = chart({
        el: el, tip: document.getElementById("length-tip"), legend: document.getElementById("length-legend"),
        xlabel: "source length", points: true,
        ylabel: function () { return "exact match"; },
        xvalue: function (v) { return d.buckets[v] === undefined ? "" : d.buckets[v]; },
        xticks: function (u, ticks) { return ticks.map(function (t) { return d.buckets[t] === undefined ? "" : d.buckets[t]; }); },
        xrange: [-0.4, d.buckets.length - 0.6], xincrs: [1], yrange: [0, 1],
        shade: d.trained ? d.trained.spans.map(function (s) { return [s[0] - 0.5, s[1] + 0.5]; }) : null
      });
      c.draw({ x: x, series: series }, false);
      var parts = ["test exact match per source-length bucket: mean over each group's runs, band min–max"];
      var some = d.series.some(function (s) { return s.n && s.n.some(function (k) { return k > 0 && k < s.nruns; }); });
      if (some) parts.push("dashed, without band: the mean of fewer runs where some have no example of that length in their test set, n=… their number");
      if (d.trained) parts.push("shaded: " + d.trained.text);
      if (d.floor) parts.push("dotted grey: the majority-answer floor (always answering the training split's most frequent target)");
      if (d.notes) parts = parts.concat(d.notes);
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
