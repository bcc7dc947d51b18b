/* Surgeline insight charts: every <canvas data-chart="ID"> is drawn from <script type="application/json" id="ID">.
   The page already shows the same figures as text; this only adds the picture (CSP: no inline script). */
(function () {
  "use strict";

  function narrow() { return window.matchMedia && window.matchMedia("(max-width: 480px)").matches; }

  function dataset(spec, index) {
    var color = spec.color || "#e8483b";
    var set = {
      label: spec.label,
      data: spec.data,
      backgroundColor: spec.colors || color,
      borderColor: spec.colors || color,
      borderWidth: spec.type === "line" ? 2 : 0,
      pointRadius: spec.type === "line" ? 2 : 0,
      spanGaps: true,
      order: spec.type === "line" ? 0 : index + 1
    };
    if (spec.type) { set.type = spec.type; }
    if (spec.yAxisID) { set.yAxisID = spec.yAxisID; }
    return set;
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") { return; }
    var spec;
    try { spec = JSON.parse(source.textContent); } catch (e) { return; }
    if (!spec || !spec.labels || !spec.labels.length) { canvas.parentNode.classList.add("insight-empty"); return; }
    // A few short categories (the 1–5 CSAT scores) are all labelled; long series keep a few ticks on a phone.
    var few = spec.labels.length <= 6;
    var ticks = few ? spec.labels.length : (narrow() ? 4 : 8);
    var scales = {
      x: { ticks: { maxTicksLimit: ticks, maxRotation: 0, autoSkip: !few }, grid: { display: false } },
      y: { beginAtZero: true, ticks: { maxTicksLimit: 5, precision: 0 } }
    };
    if (spec.percentAxis) {
      scales[spec.percentAxis] = {
        position: "right", beginAtZero: true, max: 100, grid: { drawOnChartArea: false },
        ticks: { maxTicksLimit: 5, callback: function (v) { return v + "%"; } }
      };
    }
    new window.Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: spec.datasets.map(dataset) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: spec.datasets.length > 1, position: "bottom", labels: { boxWidth: 12, font: { size: 11 } } }
        },
        scales: spec.horizontal ? { x: scales.y, y: { ticks: { autoSkip: false, font: { size: 11 } } } } : scales,
        indexAxis: spec.horizontal ? "y" : "x"
      }
    });
  }

  function start() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) { draw(canvases[i]); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
