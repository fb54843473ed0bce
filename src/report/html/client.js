// The script of report.html (inlined, runs in the browser; no network): draws every chart of the
// embedded chart data with uPlot (the global from the inlined uPlot build), and makes the embedded raw
// result downloadable and viewable. Charts are exposed as window.eventbenchCharts for the report's tests.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('eventbench-charts').textContent);
  var charts = [];

  // x = 1/(1-p): 1 -> "0%", 10 -> "90%", 1000 -> "99.9%".
  function percentileLabel(x) {
    if (x == null) return '';
    var p = 100 * (1 - 1 / x);
    if (p <= 0) return '0%';
    var digits = Math.max(0, Math.ceil(Math.log10(x)) - 2);
    return p.toFixed(Math.min(digits, 4)) + '%';
  }

  function width(el) {
    return Math.max(320, Math.floor(el.getBoundingClientRect().width || 640));
  }

  function draw(spec) {
    var el = document.getElementById(spec.id);
    if (!el) return;
    var xSeries = spec.percentileAxis
      ? { label: 'p', value: function (u, v) { return percentileLabel(v); } }
      : { label: spec.sweep ? spec.xLabel : 's', value: function (u, v) { return v == null ? '-' : String(v); } };
    var opts = {
      title: spec.title,
      width: width(el),
      height: 280,
      scales: { x: spec.percentileAxis || (spec.sweep && spec.sweep.logX) ? { time: false, distr: 3, log: 10 } : { time: false } },
      series: [xSeries].concat(spec.series.map(function (s) {
        return {
          label: s.label,
          stroke: s.color,
          width: 2,
          dash: s.dash ? [6, 4] : undefined,
          points: { show: !!spec.sweep },
          value: function (u, v) { return v == null ? '-' : Number(v.toPrecision(4)).toLocaleString('en-US'); }
        };
      })),
      axes: [
        spec.percentileAxis
          ? { label: spec.xLabel, values: function (u, splits) { return splits.map(percentileLabel); } }
          : spec.sweep
          ? { label: spec.xLabel }
          : { label: spec.xLabel, incrs: [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400] },
        { label: spec.yLabel, size: 60 }
      ],
      legend: { live: true }
    };
    var values = [spec.x].concat(spec.series.map(function (s) { return s.values; }));
    var u = new uPlot(opts, values, el);
    u.eventbenchId = spec.id;
    charts.push(u);
  }

  data.charts.forEach(draw);
  window.eventbenchCharts = charts;

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      charts.forEach(function (u) {
        var el = document.getElementById(u.eventbenchId);
        if (el) u.setSize({ width: width(el), height: 280 });
      });
    }, 150);
  });

  // The raw result: gzip + base64 in the page, inflated on demand by the browser (no request).
  var rawText = null;
  function raw() {
    if (rawText !== null) return Promise.resolve(rawText);
    var b64 = document.getElementById('eventbench-result').textContent.trim();
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).text().then(function (text) { rawText = text; return text; });
  }
  window.eventbenchRawResult = raw;

  var button = document.getElementById('download-json');
  button.addEventListener('click', function () {
    raw().then(function (text) {
      var url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      var a = document.createElement('a');
      a.href = url;
      a.download = button.getAttribute('data-filename') || 'result.json';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    });
  });
  var details = document.getElementById('raw-details');
  details.addEventListener('toggle', function () {
    var pre = document.getElementById('raw-json');
    if (details.open && !pre.textContent) raw().then(function (text) { pre.textContent = text; });
  });
})();
