// Solo OMS front-end glue. No inline scripts anywhere (CSP-friendly); htmx does the rest.
(function () {
  "use strict";

  // Conditional polling: remember the board's ETag and send it back, so an unchanged board answers 304
  // (htmx is configured not to swap a 304, so nothing on screen moves).
  var etags = {};
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-poll") && event.detail.verb === "get") {
      var tag = etags[event.detail.path];
      if (tag) { event.detail.headers["If-None-Match"] = tag; }
    }
  });
  // Read the ETag before the swap: a 200 replaces the board (outerHTML), and events fired on the detached
  // old element afterwards (htmx:afterRequest) never bubble up to this document listener.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    var elt = event.detail.elt;
    if (!xhr || !elt || !elt.hasAttribute || !elt.hasAttribute("data-poll")) { return; }
    var tag = xhr.getResponseHeader("ETag");
    if (tag && xhr.status === 200) { etags[event.detail.requestConfig.path] = tag; }
  });

  // Don't refresh the board under the owner's fingers: skip a poll while a form on it is being filled in.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    // Only the board's own poll has the board as its element; tabs, filters and actions are other elements.
    if (elt && elt.id === "board" &&
        (elt.querySelector("form[data-editing]") || elt.querySelector("input[form=print-form]:checked"))) {
      event.preventDefault();
    }
  });

  // Enter in the product search picks the first match instead of submitting the whole order.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target || event.target.id !== "product-q") { return; }
    event.preventDefault();
    var first = document.querySelector("#product-results button.result");
    if (first) { first.click(); }
  });

  // Charts: any <canvas data-chart="{...}"> holds a plain Chart.js config as JSON (built on the server by
  // webapp.charts). Started on page load and on every htmx swap; a swapped-out canvas takes its chart along.
  function startCharts(root) {
    if (typeof window.Chart === "undefined" || !root.querySelectorAll) { return; }
    var canvases = root.matches && root.matches("canvas[data-chart]") ? [root] : [];
    canvases = canvases.concat(Array.prototype.slice.call(root.querySelectorAll("canvas[data-chart]")));
    canvases.forEach(function (canvas) {
      var existing = window.Chart.getChart(canvas);
      if (existing) { existing.destroy(); }
      var config;
      try { config = JSON.parse(canvas.getAttribute("data-chart")); } catch (err) { return; }
      config.options = config.options || {};
      // A dataset marked "legend": false (a band's lower edge) stays out of the legend; JSON cannot hold the
      // filter function, so it is added here.
      config.options.plugins = config.options.plugins || {};
      config.options.plugins.legend = config.options.plugins.legend || {};
      config.options.plugins.legend.labels = config.options.plugins.legend.labels || {};
      config.options.plugins.legend.labels.filter = function (item, data) {
        var dataset = data.datasets[item.datasetIndex];
        return !dataset || dataset.legend !== false;
      };
      config.options.responsive = true;
      config.options.maintainAspectRatio = false;
      new window.Chart(canvas, config);
    });
  }
  document.addEventListener("htmx:load", function (event) { startCharts(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { startCharts(document); });
})();
