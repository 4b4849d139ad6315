// nfvo GUI: the little script the pages share. No inline scripts (the pages' CSP forbids
// them): graphs read their elements from <script type="application/json"> blocks.
(function () {
  "use strict";
  window.nfvoGraphs = window.nfvoGraphs || {};

  var COLOURS = {
    ok: "#2e7d32", INSTANTIATED: "#2e7d32", ACTIVE: "#2e7d32", ENABLED: "#2e7d32",
    COMPLETED: "#2e7d32", up: "#2e7d32",
    PROCESSING: "#1565c0", STARTING: "#1565c0", ROLLING_BACK: "#1565c0", building: "#1565c0",
    FAILED_TEMP: "#e65100", DRAINING: "#e65100", warning: "#e65100",
    FAILED: "#c62828", ERROR: "#c62828", down: "#c62828", error: "#c62828",
    NOT_INSTANTIATED: "#757575", SLEEPING: "#757575", DISABLED: "#757575"
  };

  function colour(state) {
    return COLOURS[state] || "#455a64";
  }

  // <div class="graph" data-graph="ID" data-panel-target="#side-panel"></div> with
  // <script type="application/json" id="ID-data">{"elements": [...], "layout": "breadthfirst"}</script>
  // Node data: id, label, kind, state, parent (compound), panel (a URL loaded on click).
  function drawGraph(el) {
    if (el.dataset.drawn === "1" || typeof window.cytoscape !== "function") return;
    var id = el.dataset.graph;
    var src = document.getElementById(id + "-data");
    if (!src) return;
    var spec = JSON.parse(src.textContent);
    el.dataset.drawn = "1";
    var cy = window.cytoscape({
      container: el,
      elements: spec.elements,
      wheelSensitivity: 0.3,
      style: [
        { selector: "node", style: {
          "label": "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 3,
          "background-color": function (n) { return colour(n.data("state")); },
          "width": 22, "height": 22 } },
        { selector: "node:parent", style: {
          "background-opacity": 0.06, "text-valign": "top", "border-width": 1,
          "border-color": "#90a4ae" } },
        { selector: "node[kind = 'vl']", style: { "shape": "diamond" } },
        { selector: "node[kind = 'cp']", style: { "width": 10, "height": 10 } },
        { selector: "node[kind = 'ns']", style: { "shape": "round-rectangle" } },
        { selector: "node[kind = 'vim'], node[kind = 'zone'], node[kind = 'host']",
          style: { "shape": "round-rectangle" } },
        { selector: "edge", style: {
          "width": 1.5, "line-color": "#90a4ae", "curve-style": "bezier",
          "target-arrow-shape": "none" } },
        { selector: ":selected", style: { "border-width": 3, "border-color": "#000" } }
      ],
      layout: { name: spec.layout || "breadthfirst", directed: true, padding: 10,
                animate: false, fit: true }
    });
    window.nfvoGraphs[id] = cy;
    var target = el.dataset.panelTarget || "#side-panel";
    cy.on("tap", "node", function (evt) {
      var url = evt.target.data("panel");
      if (url && window.htmx) {
        window.htmx.ajax("GET", url, { target: target, swap: "innerHTML" });
      }
    });
    el.dispatchEvent(new CustomEvent("nfvo:graph-ready", { bubbles: true, detail: { id: id } }));
  }

  function drawAll(root) {
    (root || document).querySelectorAll(".graph[data-graph]").forEach(drawGraph);
  }

  // Live JSON/YAML checks of textareas marked data-validate="json-or-yaml" happen server-side
  // (hx-post on change); this only keeps the "preview" blocks in step after a swap.
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (evt) { drawAll(evt.target); });
  // a graph's data block replaced by SSE/htmx: draw it again
  document.addEventListener("htmx:oobAfterSwap", function (evt) { drawAll(document); });
  window.nfvoRedrawGraph = function (id) {
    var el = document.querySelector('.graph[data-graph="' + id + '"]');
    if (!el) return;
    if (window.nfvoGraphs[id]) { window.nfvoGraphs[id].destroy(); delete window.nfvoGraphs[id]; }
    el.dataset.drawn = "";
    drawGraph(el);
  };
})();
