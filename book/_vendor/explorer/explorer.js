/* Kernel-free explorers of the backprop course (no dependencies, no network).
 *
 * Every <div class="bp-explorer" data-kind="..." data-config="{json}"> on a page becomes an
 * interactive figure. The numbers come from Python (bpcourse/explorer.py); this file only does
 * the arithmetic that b3 needs (it shifts every prediction by the same amount) and drawing.
 *   kind "b3":    b3 slider, learning rate, Step / Run / Reset, data + residuals, SSR + tangent
 *   kind "norms": activation / scale / depth menus, per-layer gradient norms on a log scale
 */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, parent, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function html(tag, attrs, parent, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function scale(d0, d1, r0, r1) {
    return function (v) { return r0 + (v - d0) * (r1 - r0) / (d1 - d0); };
  }
  var clips = 0;
  function panel(svg, x0, y0, title, xlabel, ylabel) {
    var g = el("g", { transform: "translate(" + x0 + "," + y0 + ")" }, svg);
    var id = "bp-clip-" + (++clips);
    el("rect", { x: 45, y: 22, width: 290, height: 180 }, el("clipPath", { id: id }, g));
    el("text", { x: 170, y: 14, "text-anchor": "middle", "font-size": 13 }, g, title);
    el("rect", { x: 45, y: 22, width: 290, height: 180, fill: "none", stroke: "#888" }, g);
    el("text", { x: 190, y: 232, "text-anchor": "middle", "font-size": 12 }, g, xlabel);
    el("text", { x: 12, y: 112, "text-anchor": "middle", "font-size": 12, transform: "rotate(-90 12 112)" }, g, ylabel);
    g.plot = el("g", { "clip-path": "url(#" + id + ")" }, g);  // what is drawn inside the frame
    return g;
  }
  function ticks(g, sx, sy, xs, ys) {
    xs.forEach(function (v) { el("text", { x: sx(v), y: 216, "text-anchor": "middle", "font-size": 10 }, g, String(v)); });
    ys.forEach(function (v) { el("text", { x: 40, y: sy(v) + 3, "text-anchor": "end", "font-size": 10 }, g, String(v)); });
  }
  function num(v, digits) {  // a number as the book prints it: a real minus sign (U+2212)
    var text = v.toFixed(digits);
    return /^-0\.?0*$/.test(text) ? text.slice(1) : text.replace("-", "\u2212");
  }
  function sci(v) {  // 1.6e-6 as the book prints it: 1.6 × 10⁻⁶
    var parts = v.toExponential(1).split("e"), sup = "⁰¹²³⁴⁵⁶⁷⁸⁹";
    var exponent = String(parseInt(parts[1], 10)).replace("-", "⁻").replace(/[0-9]/g, function (d) { return sup[d]; });
    return num(parseFloat(parts[0]), 1) + "\u00a0×\u00a010" + exponent;
  }
  function pathData(xs, ys, sx, sy) {
    return xs.map(function (x, i) { return (i ? "L" : "M") + sx(x).toFixed(2) + "," + sy(ys[i]).toFixed(2); }).join("");
  }

  function b3Explorer(root, c) {
    var state = { b3: c.start, path: [c.start], lr: c.lr };
    function ssr(b) { return c.observed.reduce(function (s, o, i) { var r = o - c.base[i] - b; return s + r * r; }, 0); }
    function slope(b) { return c.observed.reduce(function (s, o, i) { return s - 2 * (o - c.base[i] - b); }, 0); }

    root.textContent = "";
    var controls = html("div", { class: "bp-controls" }, root);
    var label = html("label", {}, controls, "b3 ");
    var slider = html("input", { type: "range", min: c.b3_range[0], max: c.b3_range[1], step: "0.01",
                                 value: c.start, "aria-label": "b3", class: "bp-b3" }, label);
    var lrLabel = html("label", {}, controls, " learning rate ");
    var lr = html("select", { class: "bp-lr", "aria-label": "learning rate" }, lrLabel);
    c.learning_rates.forEach(function (v) {
      var o = html("option", { value: v }, lr, String(v));
      if (v === c.lr) o.selected = true;
    });
    var stepButton = html("button", { type: "button", class: "bp-step" }, controls, "Step");
    var runButton = html("button", { type: "button", class: "bp-run" }, controls, "Run");
    var resetButton = html("button", { type: "button", class: "bp-reset" }, controls, "Reset");
    var status = html("div", { class: "bp-status", "aria-live": "polite" }, root);

    // side by side on a wide column; stacked on a phone, so that the labels keep their size
    var narrow = root.clientWidth < 560;
    var svg = el("svg", { viewBox: narrow ? "0 0 360 480" : "0 0 720 240", width: "100%", role: "img",
                          "aria-label": "network output and SSR as functions of b3" }, root);
    var left = panel(svg, 0, 0, "data, network output, residuals", "dosage", "efficacy");
    var right = panel(svg, narrow ? 0 : 360, narrow ? 240 : 0, "SSR(b3) and its tangent", "b3", "SSR");
    // dosages 0 and 1 sit inside the frame (not on it), so every residual line can be seen
    var lx = scale(-0.1, 1.1, 45, 335), ly = scale(-3, 4, 202, 22);
    var rx = scale(c.b3_range[0], c.b3_range[1], 45, 335), ry = scale(-3, 40, 202, 22);  // SSR = 0 above the frame
    ticks(left, lx, ly, [0, 0.5, 1], [-2, 0, 2, 4]);
    ticks(right, rx, ry, [-1, 1, 3, 5], [0, 20, 40]);
    var grid = [];
    for (var i = 0; i <= 120; i++) grid.push(c.b3_range[0] + i * (c.b3_range[1] - c.b3_range[0]) / 120);
    el("path", { d: pathData(grid, grid.map(ssr), rx, ry), fill: "none", stroke: "#1f4e79", "stroke-width": 2 }, right.plot);
    var residuals = c.x.map(function () {
      return el("line", { stroke: "#7f7f7f", "stroke-width": 2, "stroke-dasharray": "5 3", class: "bp-residual" }, left.plot);
    });
    var squiggle = el("path", { fill: "none", stroke: "#2e7d32", "stroke-width": 2, class: "bp-squiggle" }, left.plot);
    c.x.forEach(function (x, i) { el("circle", { cx: lx(x), cy: ly(c.observed[i]), r: 4, fill: "black" }, left.plot); });
    var trail = el("path", { fill: "none", stroke: "#c0392b", "stroke-width": 1, opacity: 0.7, class: "bp-trail" }, right.plot);
    var tangent = el("line", { stroke: "#e67e22", "stroke-width": 2.5, class: "bp-tangent" }, right.plot);
    var point = el("circle", { r: 5, fill: "#c0392b", class: "bp-point" }, right.plot);
    var TANGENT_HALF_WIDTH = 1.2;  // in b3 units: the tangent spans 2.4 of the 6 units shown
    var table = html("table", { class: "bp-table" }, root);

    function draw() {
      var b = state.b3, s = ssr(b), m = slope(b);
      squiggle.setAttribute("d", pathData(c.dose, c.curve.map(function (v) { return v + b; }), lx, ly));
      residuals.forEach(function (line, i) {
        line.setAttribute("x1", lx(c.x[i])); line.setAttribute("x2", lx(c.x[i]));
        line.setAttribute("y1", ly(c.observed[i])); line.setAttribute("y2", ly(c.base[i] + b));
      });
      point.setAttribute("cx", rx(b)); point.setAttribute("cy", ry(s));
      var t = TANGENT_HALF_WIDTH;
      tangent.setAttribute("x1", rx(b - t)); tangent.setAttribute("y1", ry(s - t * m));
      tangent.setAttribute("x2", rx(b + t)); tangent.setAttribute("y2", ry(s + t * m));
      trail.setAttribute("d", pathData(state.path, state.path.map(ssr), rx, ry));
      slider.value = b;
      var outside = b < c.b3_range[0] || b > c.b3_range[1];
      status.textContent = "b3 = " + num(b, 2) + ", SSR = " + num(s, 2) + ", slope dSSR/db3 = " + num(m, 2) +
        (outside ? " (outside the plot: the descent diverges)" : "");
      root.setAttribute("data-b3", b.toFixed(4));
      var rows = "<tr><th>step</th><th>b3</th><th>SSR</th><th>slope</th><th>step size</th></tr>";
      state.path.forEach(function (v, k) {
        rows += "<tr><td>" + k + "</td><td>" + num(v, 4) + "</td><td>" + num(ssr(v), 4) + "</td><td>" +
          num(slope(v), 4) + "</td><td>" + num(state.lr * slope(v), 4) + "</td></tr>";
      });
      table.innerHTML = rows;
    }
    function step() {
      if (Math.abs(state.b3) > 10 * (c.b3_range[1] - c.b3_range[0])) return false;  // diverged: stay put
      var size = state.lr * slope(state.b3);
      state.b3 -= size;
      state.path.push(state.b3);
      draw();
      var span = c.b3_range[1] - c.b3_range[0];
      var diverged = Math.abs(state.b3) > 10 * span;  // far outside the plot: Run stops here
      return Math.abs(size) >= c.min_step && !diverged;
    }
    slider.addEventListener("input", function () { state.b3 = parseFloat(slider.value); state.path = [state.b3]; draw(); });
    lr.addEventListener("change", function () { state.lr = parseFloat(lr.value); draw(); });
    stepButton.addEventListener("click", step);
    runButton.addEventListener("click", function () { for (var k = 0; k < c.max_steps && step(); k++) {} });
    resetButton.addEventListener("click", function () { state.b3 = c.start; state.path = [c.start]; draw(); });
    draw();
  }

  function normsExplorer(root, c) {
    root.textContent = "";
    var controls = html("div", { class: "bp-controls" }, root);
    function menu(name, options, first, labels) {
      var label = html("label", {}, controls, " " + name + " ");
      var select = html("select", { class: "bp-" + name, "aria-label": name }, label);
      options.forEach(function (v) {
        var o = html("option", { value: v }, select, labels ? labels[v] : String(v));
        if (v === first) o.selected = true;
      });
      select.addEventListener("change", draw);
      return select;
    }
    var quantity = menu("gradient", Object.keys(c.quantities), "dh", c.quantities);
    var activation = menu("activation", c.activations, "sigmoid");
    var sc = menu("scale", c.scales, c.scales[0]);
    var depth = menu("depth", c.depths, 10);
    var W = root.clientWidth < 560 ? 380 : 720;  // a narrower drawing on a phone keeps labels legible
    var svg = el("svg", { viewBox: "0 0 " + W + " 260", width: "100%", role: "img", "aria-label": "gradient norm per layer" }, root);
    var status = html("div", { class: "bp-status", "aria-live": "polite" }, root);
    function draw() {
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      var norms = c.norms[quantity.value + "|" + activation.value + "|" + sc.value + "|" + depth.value];
      var first = c.first_layer[quantity.value];
      var logs = norms.map(function (v) { return Math.log10(Math.max(v, 1e-30)); });
      var lo = Math.floor(Math.min.apply(null, logs)) - 1, hi = Math.ceil(Math.max.apply(null, logs)) + 1;
      var sy = scale(lo, hi, 220, 20), width = (W - 80) / norms.length;
      el("line", { x1: 60, y1: 220, x2: W - 20, y2: 220, stroke: "#888" }, svg);
      for (var e = lo; e <= hi; e += Math.max(1, Math.round((hi - lo) / 6))) {
        var tick = el("text", { x: 55, y: sy(e) + 3, "text-anchor": "end", "font-size": 10 }, svg, "10");
        el("tspan", { dy: -4, "font-size": 8 }, tick, String(e).replace("-", "\u2212"));  // 10 to the power e
        el("line", { x1: 60, y1: sy(e), x2: W - 20, y2: sy(e), stroke: "#eee" }, svg);
      }
      norms.forEach(function (v, i) {
        el("rect", { x: 60 + i * width + 2, y: sy(logs[i]), width: width - 4, height: 220 - sy(logs[i]), fill: "#1f4e79",
                     class: "bp-bar", "data-norm": v.toExponential(3) }, svg);
        el("text", { x: 60 + (i + 0.5) * width, y: 234, "text-anchor": "middle", "font-size": 10 }, svg, String(i + first));
      });
      el("text", { x: (W + 40) / 2, y: 254, "text-anchor": "middle", "font-size": 12 }, svg, quantity.value === "dh" ?
         "layer l of h_l (0 = the input)" : "weight matrix W_l (1 = closest to the input)");
      el("text", { x: 14, y: 120, "text-anchor": "middle", "font-size": 12, transform: "rotate(-90 14 120)" }, svg,
         "||" + quantity.value.replace("d", "dL/d") + "|| (log scale)");
      status.textContent = "first / last = " + sci(norms[0] / norms[norms.length - 1]);
      root.setAttribute("data-ratio", String(norms[0] / norms[norms.length - 1]));
    }
    draw();
  }

  function start() {
    var kinds = { b3: b3Explorer, norms: normsExplorer };
    document.querySelectorAll(".bp-explorer").forEach(function (root) {
      var make = kinds[root.getAttribute("data-kind")];
      if (make) make(root, JSON.parse(root.getAttribute("data-config")));
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
