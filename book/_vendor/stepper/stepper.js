/* Step-through graphs of the backward pass (backprop course; no dependencies, no network).
 *
 * Every <div class="bp-stepper" data-config="{json}"> becomes a figure: one or more small
 * computational graphs (panels, stepped together), the buttons Forward step, Backward step, Run
 * and Reset, an input box per leaf, and under each graph the rule of the last step (an
 * aria-live region). The graph, its rule names and Python's numbers for the default inputs come
 * from bpcourse/stepper.py; this file recomputes forward and backward from the rule names
 * whenever an input changes, and reports on the console if its numbers for the defaults differ
 * from Python's.
 *
 * Steps (the same schedule as bpcourse.stepper.schedule): forward, one per operation in the
 * given order; backward, the seed at the output, then one per (operation, argument), the
 * operations in reverse order: argument += local derivative x upstream gradient.
 *
 * Keys, with the figure or one of its buttons focused: Right arrow (or N) next step, Left arrow
 * (or P) one step back, Home reset, End run to the end. Buttons work with Enter and Space.
 */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var W = 92, WTB = 80, H = 62;  // a node's box (narrower when drawn top to bottom)
  var figures = 0;

  // name -> value, local partials, forward formula, verb of the backward rule, local derivative as text
  var RULES = {
    add: { symbol: "+", f: function (a, b) { return a + b; }, d: function () { return [1, 1]; }, sym: "{0} + {1}",
           verb: function () { return "add distributes"; }, local: function () { return "1"; } },
    sub: { symbol: "−", f: function (a, b) { return a - b; }, d: function () { return [1, -1]; }, sym: "{0} − {1}",
           verb: function (i) { return i ? "sub flips the sign" : "sub passes"; },
           local: function (i) { return i ? "(−1)" : "1"; } },
    mul: { symbol: "×", f: function (a, b) { return a * b; }, d: function (a, b) { return [b, a]; }, sym: "{0} × {1}",
           verb: function () { return "mul swaps"; }, local: function (i, labels) { return labels[1 - i]; } },
    max: { symbol: "max", f: function (a, b) { return Math.max(a, b); },
           d: function (a, b) { return a > b ? [1, 0] : a < b ? [0, 1] : [0.5, 0.5]; }, sym: "max({0}, {1})",
           verb: function (i, labels, args) {
             if (args[0] === args[1]) return "max splits the tie";
             return "max routes: " + labels[i] + ((args[i] > args[1 - i]) ? " won" : " lost");
           },
           local: function (i, labels, args) { return args[0] === args[1] ? "½" : (args[i] > args[1 - i] ? "1" : "0"); } },
    ln: { symbol: "ln", f: Math.log, d: function (a) { return [1 / a]; }, sym: "ln {0}", domain: function (a) { return a > 0; },
          need: "a positive number", verb: function () { return "ln"; },
          local: function (i, labels) { return "1/" + labels[0]; } },
    sin: { symbol: "sin", f: Math.sin, d: function (a) { return [Math.cos(a)]; }, sym: "sin {0}", verb: function () { return "sin"; },
           local: function (i, labels) { return "cos " + labels[0]; } },
    tanh: { symbol: "tanh", f: Math.tanh, d: function (a) { var t = Math.tanh(a); return [1 - t * t]; }, sym: "tanh {0}",
            verb: function () { return "tanh"; }, local: function (i, labels, args, out) { return "(1 − " + out + "²)"; } },
    exp: { symbol: "exp", f: Math.exp, d: function (a) { return [Math.exp(a)]; }, sym: "exp {0}", verb: function () { return "exp"; },
           local: function (i, labels, args, out) { return out; } },
    relu: { symbol: "relu", f: function (a) { return Math.max(a, 0); }, d: function (a) { return [a > 0 ? 1 : 0]; }, sym: "relu {0}",
            verb: function (i, labels, args) { return args[0] > 0 ? "relu passes" : "relu blocks"; },
            local: function (i, labels, args) { return args[0] > 0 ? "1" : "0"; } }
  };

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
  function fill(template, parts) {
    return template.replace(/\{(\d)\}/g, function (_, i) { return parts[+i]; });
  }

  function Stepper(root, config) {
    var self = this;
    this.root = root;
    this.config = config;
    this.position = 0;
    this.timer = null;
    this.id = "bp-stepper-" + (++figures);
    this.panels = config.panels.map(function (p) { return new Panel(self, p); });
    this.forwardSteps = Math.max.apply(null, this.panels.map(function (p) { return p.ops.length; }));
    this.backwardSteps = Math.max.apply(null, this.panels.map(function (p) { return p.ops.reduce(function (s, o) { return s + o.args.length; }, 1); }));
    this.total = this.forwardSteps + this.backwardSteps;
    this.build();
    this.selfCheck();
    this.update();
  }

  Stepper.prototype.num = function (v) {  // as the book prints numbers: a real minus sign, no −0
    if (typeof v !== "number" || !isFinite(v)) return "—";
    var text = v.toFixed(this.config.digits);
    if (this.config.trim && text.indexOf(".") >= 0) text = text.replace(/0+$/, "").replace(/\.$/, "");
    if (/^-0(\.0*)?$/.test(text)) text = text.slice(1);
    return text.replace("-", "\u2212");
  };
  Stepper.prototype.factor = function (v) {  // a number inside a product: negatives in parentheses
    var text = this.num(v);
    return text.charAt(0) === "\u2212" ? "(" + text + ")" : text;
  };

  Stepper.prototype.build = function () {
    var self = this, root = this.root;
    root.textContent = "";
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", this.config.label);
    root.tabIndex = 0;
    var controls = html("div", { class: "bp-controls" }, root);
    this.buttons = {
      forward: html("button", { type: "button", class: "bp-forward" }, controls, "Forward step"),
      backward: html("button", { type: "button", class: "bp-backward" }, controls, "Backward step"),
      run: html("button", { type: "button", class: "bp-run" }, controls, "Run"),
      reset: html("button", { type: "button", class: "bp-reset" }, controls, "Reset")
    };
    this.counter = html("span", { class: "bp-counter" }, controls);
    var legend = html("p", { class: "bp-legend" }, root);
    html("span", { class: "bp-key-value" }, legend, "value (forward)");
    html("span", { class: "bp-key-grad" }, legend, "gradient ∂" + this.config.panels[0].of + "/∂node (backward)");
    html("span", { class: "bp-key-current" }, legend, "current step");
    html("span", { class: "bp-key-upstream" }, legend, "upstream gradient used");
    var box = html("div", { class: "bp-panels" }, root);
    this.panels.forEach(function (p) { p.build(box); });
    html("p", { class: "bp-keys" }, root,
         "Keys (figure focused): → or N next step, ← or P step back, Home reset, End run to the end.");

    this.buttons.forward.addEventListener("click", function () { self.stop(); self.forward(); });
    this.buttons.backward.addEventListener("click", function () { self.stop(); self.backward(); });
    this.buttons.run.addEventListener("click", function () { self.timer ? self.stop() : self.run(); });
    this.buttons.reset.addEventListener("click", function () { self.stop(); self.go(0); });
    root.addEventListener("keydown", function (event) {
      if (event.target.tagName === "INPUT" || event.altKey || event.ctrlKey || event.metaKey) return;
      var key = event.key, done = true;
      if (key === "ArrowRight" || key === "n" || key === "N") { self.stop(); self.go(self.position + 1); }
      else if (key === "ArrowLeft" || key === "p" || key === "P") { self.stop(); self.go(self.position - 1); }
      else if (key === "Home") { self.stop(); self.go(0); }
      else if (key === "End") { self.stop(); self.go(self.total); }
      else done = false;
      if (done) event.preventDefault();
    });
    var resize = null;
    window.addEventListener("resize", function () {
      clearTimeout(resize);
      resize = setTimeout(function () { self.panels.forEach(function (p) { p.draw(); }); self.update(); }, 100);
    });
  };

  Stepper.prototype.forward = function () { if (this.position < this.forwardSteps) this.go(this.position + 1); };
  Stepper.prototype.backward = function () {
    if (this.position >= this.forwardSteps && this.position < this.total) this.go(this.position + 1);
  };
  Stepper.prototype.run = function () {
    var self = this;
    if (this.position >= this.total) this.go(0);
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      this.go(this.total);
      return;
    }
    this.buttons.run.textContent = "Pause";
    this.root.setAttribute("data-running", "true");
    this.go(this.position + 1);
    this.timer = setInterval(function () {
      if (self.position >= self.total) self.stop();
      else self.go(self.position + 1);
    }, 450);
  };
  Stepper.prototype.stop = function () {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.buttons.run.textContent = "Run";
    this.root.removeAttribute("data-running");
    if (this.position >= this.total) this.update();
  };
  Stepper.prototype.go = function (position) {
    this.position = Math.max(0, Math.min(this.total, position));
    this.update();
  };

  Stepper.prototype.update = function () {
    var self = this, p = this.position, focused = document.activeElement;
    this.root.setAttribute("data-position", p);
    this.root.setAttribute("data-total", this.total);
    this.root.setAttribute("data-forward-steps", this.forwardSteps);
    this.panels.forEach(function (panel) {
      var f = Math.min(p, self.forwardSteps), b = Math.max(0, p - self.forwardSteps);
      panel.show(Math.min(f, panel.ops.length), Math.min(b, panel.bsteps.length), p <= self.forwardSteps ? "forward" : "backward", p);
    });
    var phase = p === 0 ? "ready" : p <= this.forwardSteps ? "forward pass" : p < this.total ? "backward pass" : "done";
    this.counter.textContent = "step " + p + " of " + this.total + " · " + phase;
    var b = this.buttons;
    b.forward.disabled = p >= this.forwardSteps;
    b.backward.disabled = p < this.forwardSteps || p >= this.total;
    b.run.disabled = false;
    b.reset.disabled = p === 0 && !this.timer;
    if (focused && focused.disabled) {  // never strand a keyboard user on a disabled button
      var next = [b.forward, b.backward, b.run].filter(function (x) { return !x.disabled; })[0];
      (next || this.root).focus();
    }
  };

  Stepper.prototype.selfCheck = function () {  // the defaults: the same numbers as Python's
    var bad = [];
    this.panels.forEach(function (panel) {
      var r = panel.compute(panel.defaults());
      panel.nodes.forEach(function (n) {
        ["value", "grad"].forEach(function (k) {
          var js = k === "value" ? r.values[n.id] : r.grads[n.id], py = n[k];
          if (!(Math.abs(js - py) <= 1e-9 * Math.max(1, Math.abs(py)))) bad.push(n.id + "." + k + ": " + js + " vs " + py);
        });
      });
    });
    if (bad.length) console.error("stepper: the page's numbers differ from Python's: " + bad.join("; "));
  };

  function Panel(stepper, p) {
    this.stepper = stepper;
    this.p = p;
    this.nodes = p.nodes;
    this.byId = {};
    var self = this;
    p.nodes.forEach(function (n) { self.byId[n.id] = n; });
    this.inputs = p.nodes.filter(function (n) { return n.kind === "input"; });
    this.ops = p.nodes.filter(function (n) { return n.kind === "op"; });
    this.bsteps = [{ seed: true, node: p.output }];
    this.ops.slice().reverse().forEach(function (op) {
      op.args.forEach(function (arg, i) { self.bsteps.push({ op: op, i: i, node: arg }); });
    });
    this.result = this.compute(this.defaults());
  }

  Panel.prototype.defaults = function () {
    var values = {};
    this.inputs.forEach(function (n) { values[n.id] = n.value; });
    return values;
  };

  // forward and backward for the given inputs: values, final gradients, one record per backward step
  Panel.prototype.compute = function (inputs) {
    var self = this, values = {}, grads = {}, records = [], error = null;
    this.inputs.forEach(function (n) {
      values[n.id] = inputs[n.id];
      if (typeof inputs[n.id] !== "number" || !isFinite(inputs[n.id])) error = error || (n.label + " needs a number");
    });
    this.ops.forEach(function (op) {
      var rule = RULES[op.rule], args = op.args.map(function (a) { return values[a]; });
      if (!error && rule.domain && !rule.domain.apply(null, args)) {
        error = op.rule + " needs " + rule.need + ": " + self.label(op.args[0]) + " = " + self.stepper.num(args[0]);
      }
      values[op.id] = error ? NaN : rule.f.apply(null, args);
    });
    this.nodes.forEach(function (n) { grads[n.id] = 0; });
    grads[this.p.output] = error ? NaN : this.p.seed;
    var seen = {};
    this.bsteps.forEach(function (step) {
      if (step.seed) { records.push({ contribution: grads[step.node], total: grads[step.node] }); return; }
      var rule = RULES[step.op.rule], args = step.op.args.map(function (a) { return values[a]; });
      var local = rule.d.apply(null, args)[step.i], up = grads[step.op.id], c = local * up;
      grads[step.node] += c;
      records.push({ local: local, up: up, contribution: c, total: grads[step.node], first: !seen[step.node], args: args });
      seen[step.node] = true;
    });
    return { values: values, grads: grads, records: records, error: error };
  };

  Panel.prototype.label = function (id) { return this.byId[id].label; };
  Panel.prototype.wrapped = function (id) {  // ∂f/∂(xy), but ∂f/∂x₁
    var label = this.label(id);
    return label.replace(/[₀-₉₋]/g, "").length > 1 ? "(" + label + ")" : label;
  };

  Panel.prototype.build = function (box) {
    var self = this, s = this.stepper;
    this.card = html("div", { class: "bp-panel" }, box);
    if (this.p.title) html("p", { class: "bp-panel-title" }, this.card, this.p.title);
    this.frame = html("div", { class: "bp-graph" }, this.card);
    var inputs = html("div", { class: "bp-inputs" }, this.card);
    this.fields = {};
    this.inputs.forEach(function (n) {
      var label = html("label", {}, inputs, n.label + " = ");
      var field = html("input", { type: "number", step: "any", inputmode: "decimal", value: String(n.value),
                                  "data-input": n.id, "aria-label": n.label + " (input)" }, label);
      field.addEventListener("input", function () { self.recompute(); s.update(); });
      self.fields[n.id] = field;
    });
    this.rule = html("p", { class: "bp-rule", "aria-live": "polite" }, this.card);
    this.draw();
  };

  Panel.prototype.recompute = function () {
    var values = {}, self = this;
    this.inputs.forEach(function (n) {
      var text = self.fields[n.id].value.trim();
      values[n.id] = text === "" ? NaN : Number(text);
      self.fields[n.id].setAttribute("aria-invalid", isFinite(values[n.id]) ? "false" : "true");
    });
    this.result = this.compute(values);
  };

  // ranks left to right: an operation one after its latest argument, an input just before its
  // first use; an edge that skips ranks gets a narrow lane in each rank it crosses (so that it
  // never runs behind a node); within a rank, a node sits at the mean height of its arguments
  Panel.prototype.layout = function (across) {
    var self = this, rank = {}, pos = {}, columns = [], lanes = {}, items = [];
    var w = across ? WTB : W, h = H, lane = 18;
    this.ops.forEach(function (op) {
      rank[op.id] = 1 + Math.max.apply(null, op.args.map(function (a) { return self.byId[a].kind === "input" ? 0 : rank[a]; }));
    });
    this.inputs.forEach(function (n) {
      var uses = self.ops.filter(function (op) { return op.args.indexOf(n.id) >= 0; }).map(function (op) { return rank[op.id]; });
      rank[n.id] = uses.length ? Math.min.apply(null, uses) - 1 : 0;
    });
    this.nodes.forEach(function (n) { items.push({ id: n.id, kind: n.kind, from: n.args || [], size: across ? w : h }); });
    this.p.edges.forEach(function (e) {
      var key = e[0] + ">" + e[1], prev = e[0];
      lanes[key] = [];
      for (var r = rank[e[0]] + 1; r < rank[e[1]]; r++) {
        var id = "~" + key + ":" + r;
        rank[id] = r;
        items.push({ id: id, kind: "lane", from: [prev], size: lane });
        lanes[key].push(id);
        prev = id;
      }
    });
    items.forEach(function (it) { (columns[rank[it.id]] = columns[rank[it.id]] || []).push(it); });
    var gapRank = across ? 44 : 40, gapRow = across ? 12 : 18, along = across ? h : w;
    function size(column) { return column.reduce(function (t, it) { return t + it.size; }, 0) + (column.length - 1) * gapRow; }
    var span = Math.max.apply(null, columns.map(size));
    columns.forEach(function (column, r) {
      column.forEach(function (it, k) {
        if (it.kind === "op") {  // where its arguments' edges arrive from (the last lane, if any)
          it.key = it.from.reduce(function (t, a) {
            var via = lanes[a + ">" + it.id];
            return t + pos[via && via.length ? via[via.length - 1] : a].c;
          }, 0) / it.from.length;
        } else if (it.kind === "lane") it.key = pos[it.from[0]].c;
        else it.key = r > 0 ? 1e6 + k : k;  // an input used late goes below the operations of its rank
      });
      column.sort(function (a, b) { return a.key - b.key; });
      var c = (span - size(column)) / 2;
      column.forEach(function (it) {
        pos[it.id] = { r: r * (along + gapRank), c: c + it.size / 2 };
        c += it.size + gapRow;
      });
    });
    var pad = 6, xy = {}, depth = columns.length;
    Object.keys(pos).forEach(function (id) {  // top-left corners (a lane: its centre line)
      var q = pos[id], half = id.charAt(0) === "~" ? 0 : (across ? w : h) / 2;
      xy[id] = across ? { x: pad + q.c - half, y: pad + q.r } : { x: pad + q.r, y: pad + q.c - half };
    });
    var length = depth * along + (depth - 1) * gapRank + 2 * pad;
    return { xy: xy, lanes: lanes, w: w, across: across,
             width: across ? span + 2 * pad : length, height: across ? length : span + 2 * pad };
  };

  Panel.prototype.edgePath = function (L, e) {
    var w = L.w, a = L.xy[e[0]], b = L.xy[e[1]], across = L.across;
    var points = [across ? [a.x + w / 2, a.y + H] : [a.x + w, a.y + H / 2]];  // leaves its source
    L.lanes[e[0] + ">" + e[1]].forEach(function (id) {  // straight through each lane
      var q = L.xy[id];
      points.push(across ? [q.x, q.y] : [q.x, q.y], across ? [q.x, q.y + H] : [q.x + w, q.y]);
    });
    var args = this.byId[e[1]].args, at = (args.indexOf(e[0]) + 1) / (args.length + 1);  // one entry per argument
    if (args.length === 2 && args[0] === args[1]) at = 0.5;
    points.push(across ? [b.x + w * at, b.y - 2] : [b.x - 2, b.y + H * at]);  // reaches its target
    var d = "M" + points[0].join(",");
    for (var i = 1; i < points.length; i++) {
      var p0 = points[i - 1], p1 = points[i];
      if (i % 2 === 0) { d += " L" + p1.join(","); continue; }  // along a lane
      if (across) { var my = (p0[1] + p1[1]) / 2; d += " C" + p0[0] + "," + my + " " + p1[0] + "," + my + " " + p1.join(","); }
      else { var mx = (p0[0] + p1[0]) / 2; d += " C" + mx + "," + p0[1] + " " + mx + "," + p1[1] + " " + p1.join(","); }
    }
    return d;
  };

  Panel.prototype.draw = function () {
    var self = this, s = this.stepper;
    var room = this.frame.clientWidth || 600;
    var lr = this.layout(false);
    // left to right when it fits at 85% or more; otherwise top to bottom, so that text keeps its size
    var L = lr.width * 0.85 <= room ? lr : this.layout(true);
    if (L.across && L.width > room && lr.width < L.width) L = lr;
    var w = L.w;
    this.frame.textContent = "";
    var svg = el("svg", { viewBox: "0 0 " + L.width + " " + L.height, width: L.width, height: L.height,
                          class: "bp-svg", role: "img", "aria-label": this.description() }, this.frame);
    svg.setAttribute("data-orientation", L.across ? "top-to-bottom" : "left-to-right");
    var defs = el("defs", {}, svg), mid = s.id + "-" + Math.random().toString(36).slice(2, 8);
    [["fwd", "#666", 9], ["fwdon", "#1b7a33", 12], ["back", "#c0392b", 15]].forEach(function (m) {
      var marker = el("marker", { id: mid + m[0], viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: m[2], markerHeight: m[2],
                                  markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, defs);
      el("path", { d: "M0,0 L10,5 L0,10 z", fill: m[1] }, marker);
    });
    this.markers = mid;
    this.edges = {};
    var edgeLayer = el("g", { class: "bp-edges" }, svg), nodeLayer = el("g", { class: "bp-nodes" }, svg);
    this.p.edges.forEach(function (e) {
      var path = el("path", { d: self.edgePath(L, e), class: "bp-edge", "data-edge": e[0] + ">" + e[1], fill: "none",
                              "marker-end": "url(#" + mid + "fwd)" }, edgeLayer);
      (self.edges[e[0] + ">" + e[1]] = self.edges[e[0] + ">" + e[1]] || []).push(path);
    });
    this.boxes = {};
    this.nodes.forEach(function (n) {
      var q = L.xy[n.id];
      var g = el("g", { class: "bp-node bp-" + n.kind, "data-node": n.id, transform: "translate(" + q.x + "," + q.y + ")" }, nodeLayer);
      el("rect", { width: w, height: H, rx: 9, ry: 9 }, g);
      var head = n.kind === "op" ? n.label + " (" + RULES[n.rule].symbol + ")" : n.label;
      el("text", { x: w / 2, y: 18, class: "bp-head", "text-anchor": "middle" }, g, head);
      var value = el("text", { x: w / 2, y: 37, class: "bp-val", "text-anchor": "middle" }, g);
      var grad = el("text", { x: w / 2, y: 54, class: "bp-grad", "text-anchor": "middle" }, g);
      self.boxes[n.id] = { g: g, value: value, grad: grad };
    });
  };

  Panel.prototype.description = function () {
    var self = this;
    return "graph: " + this.ops.map(function (op) {
      return op.label + " = " + fill(RULES[op.rule].sym, op.args.map(function (a) { return self.label(a); }));
    }).join("; ");
  };

  // what the graph shows after f forward and b backward steps
  Panel.prototype.show = function (f, b, phase, position) {
    var self = this, s = this.stepper, r = this.result;
    var computed = {}, grads = {}, reached = {};
    this.inputs.forEach(function (n) { computed[n.id] = true; });
    this.ops.slice(0, f).forEach(function (op) { computed[op.id] = true; });
    this.nodes.forEach(function (n) { grads[n.id] = 0; });
    for (var j = 0; j < b; j++) {
      var step = this.bsteps[j], rec = r.records[j];
      grads[step.node] = rec.total;
      reached[step.node] = true;
    }
    this.nodes.forEach(function (n) {
      var box = self.boxes[n.id], v = r.values[n.id];
      box.value.textContent = computed[n.id] ? s.num(v) : "?";
      box.grad.textContent = reached[n.id] ? s.num(grads[n.id]) : "";
      box.g.setAttribute("data-value", computed[n.id] && isFinite(v) ? String(v) : "");
      box.g.setAttribute("data-grad", reached[n.id] && isFinite(grads[n.id]) ? String(grads[n.id]) : "");
      box.g.classList.toggle("bp-pending", !computed[n.id]);
      box.g.classList.remove("bp-current", "bp-upstream");
    });
    Object.keys(this.edges).forEach(function (k) {
      self.edges[k].forEach(function (path) {
        path.setAttribute("class", "bp-edge");
        path.setAttribute("marker-end", "url(#" + self.markers + "fwd)");
        path.removeAttribute("marker-start");
      });
    });
    var text;
    if (r.error) text = "Cannot compute: " + r.error + ".";
    else if (position === 0) text = "Press Forward step (or →) to evaluate the first node.";
    else if (phase === "forward" && f === this.ops.length && position > this.ops.length) text = "(this graph's forward pass is done)";
    else if (phase === "forward") text = this.forwardText(this.ops[f - 1]);
    else if (b === 0) text = "";
    else text = this.backwardText(b - 1);
    this.rule.textContent = text;

    // highlight the node and the edges of the last step
    if (position === 0 || r.error) return;
    if (phase === "forward") {
      var op = this.ops[f - 1];
      if (!op) return;
      this.boxes[op.id].g.classList.add("bp-current");
      op.args.forEach(function (a) {
        (self.edges[a + ">" + op.id] || []).forEach(function (path) {
          path.setAttribute("class", "bp-edge bp-edge-forward");
          path.setAttribute("marker-end", "url(#" + self.markers + "fwdon)");
        });
      });
    } else if (b > 0) {
      var st = this.bsteps[b - 1];
      this.boxes[st.node].g.classList.add("bp-current");
      if (!st.seed) {
        this.boxes[st.op.id].g.classList.add("bp-upstream");  // whose gradient is multiplied
        (self.edges[st.node + ">" + st.op.id] || []).forEach(function (path) {
          path.setAttribute("class", "bp-edge bp-edge-backward");
          path.removeAttribute("marker-end");
          path.setAttribute("marker-start", "url(#" + self.markers + "back)");
        });
      }
    }
  };

  Panel.prototype.forwardText = function (op) {
    var s = this.stepper, r = this.result, self = this;
    var names = op.args.map(function (a) { return self.wrapped(a); });
    var numbers = op.args.map(function (a) { return s.factor(r.values[a]); });
    if (op.args.length === 1) numbers = [s.factor(r.values[op.args[0]])];
    var rule = RULES[op.rule];
    return "forward, " + op.rule + ": " + op.label + " = " + fill(rule.sym, names) + " = " + fill(rule.sym, numbers) +
           " = " + s.num(r.values[op.id]);
  };

  Panel.prototype.backwardText = function (j) {
    var s = this.stepper, r = this.result, step = this.bsteps[j], rec = r.records[j], of = this.p.of, self = this;
    if (step.seed) {
      var d = "∂" + of + "/∂" + this.wrapped(step.node);
      return this.p.seed_note ? "seed: " + d + " = " + s.num(rec.total) + ", the gradient arriving " + this.p.seed_note + "."
                              : "seed: " + d + " = 1 (the output's gradient with respect to itself).";
    }
    var op = step.op, rule = RULES[op.rule], labels = op.args.map(function (a) { return self.wrapped(a); });
    var local = rule.local(step.i, labels, rec.args, this.wrapped(op.id));
    var target = "∂" + of + "/∂" + this.wrapped(step.node), up = "∂" + of + "/∂" + this.wrapped(op.id);
    var text = rule.verb(step.i, labels, rec.args) + ": " + target + (rec.first ? " = " : " += ") + local + " · " + up +
               " = " + s.factor(rec.local) + " · " + s.factor(rec.up) + " = " + s.num(rec.contribution);
    if (!rec.first) text += "; total " + target + " = " + s.num(rec.total) + " (a second use: gradients add)";
    return text;
  };

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".bp-stepper[data-config]"), function (root) {
      try {
        root.stepper = new Stepper(root, JSON.parse(root.getAttribute("data-config")));
      } catch (err) {
        console.error("stepper: " + err);
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
