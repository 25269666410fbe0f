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

  // An answer can come back after another one replaced the part of the page it was for: a card action answered
  // after a board poll replaced the board, or a poll answered after a card action or a tab did. htmx would swap
  // it into the replaced element, now off the page, and look for its out-of-band part (the messages) only in
  // there: "htmx:oobErrorNoTarget", the message lost and the action's result not shown. Instead, what the person
  // did lands on the element that now has the target's id; a poll's answer, older than what replaced its
  // target, is dropped; either way its messages go to the page. Events on an element off the page never reach
  // the document, so each request's target carries the guard itself.
  function landOnThePage(event) {
    var detail = event.detail;
    if (!detail.shouldSwap || !detail.target || document.body.contains(detail.target)) { return; }
    detail.shouldSwap = false;
    var current = detail.target.id ? document.getElementById(detail.target.id) : null;
    var isPoll = detail.elt === detail.target && detail.elt.hasAttribute("data-poll");
    if (current && !isPoll) {
      var swapped = detail.elt.closest ? detail.elt.closest("[hx-swap]") : null;
      var style = swapped ? swapped.getAttribute("hx-swap").split(" ")[0] : "innerHTML";
      window.htmx.swap(current, detail.serverResponse, { swapStyle: style });
    } else {
      window.htmx.swap(document.body, detail.serverResponse, { swapStyle: "none" });  // the messages only
    }
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && !target.soloLandsOnThePage) {
      target.soloLandsOnThePage = true;
      target.addEventListener("htmx:beforeSwap", landOnThePage);
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
