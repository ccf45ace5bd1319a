// An exercise page ("Work on it here"): the release notebook's cells, the answer cells in
// CodeMirror editors, Python in a Web Worker started on the first Run, answers kept in
// localStorage, Stop, Reset and Download notebook. Made by book/_ext/exercise_pages.py.
"use strict";

(function () {
  const WORKER_URL = new URL("exercise-worker.js", document.currentScript.src).href;
  const MAX_OUTPUT = 100000; // characters of printed text kept under a cell

  function init() {
    const root = document.querySelector(".bp-notebook");
    if (!root) return;
    root.classList.add("bp-js");
    const release = JSON.parse(document.getElementById("bp-release").textContent);
    const assignment = root.dataset.assignment;
    const storeKey = "bpcourse:" + assignment + ":answers";
    const status = root.querySelector(".bp-status");
    const buttons = {
      runAll: root.querySelector(".bp-run-all"),
      stop: root.querySelector(".bp-stop"),
      reset: root.querySelector(".bp-reset"),
      download: root.querySelector(".bp-download"),
    };

    // ---- cells and editors ----
    const cells = Array.from(root.querySelectorAll(".bp-code")).map((element) => {
      const index = Number(element.dataset.index);
      return {
        element, index, id: element.dataset.cellId, kind: element.dataset.kind,
        output: element.querySelector(".bp-output"),
        releaseSource: source(release.cells[index]),
        editor: null, ran: false,
      };
    });
    const saved = loadSaved();
    for (const cell of cells) {
      if (cell.kind !== "answer" && cell.kind !== "code") continue;
      const holder = cell.element.querySelector(".bp-editor");
      holder.textContent = "";
      const text = Object.prototype.hasOwnProperty.call(saved, cell.id) ? saved[cell.id] : cell.releaseSource;
      cell.editor = window.BPEditor.create(holder, text, {
        label: "Python code of cell " + cell.id,
        onChange: () => scheduleSave(),
        onRun: () => runUpTo(cell),
      });
    }
    const editable = cells.filter((c) => c.editor);

    function source(cell) {
      return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    }

    function loadSaved() {
      try {
        const value = JSON.parse(window.localStorage.getItem(storeKey) || "{}");
        return value && typeof value.cells === "object" && value.cells ? value.cells : {};
      } catch (e) {
        return {};
      }
    }

    let saveTimer = null;
    function scheduleSave() {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(save, 250);
    }
    function save() {
      const answers = {};
      for (const cell of editable) {
        const text = cell.editor.getText();
        if (text !== cell.releaseSource) answers[cell.id] = text;
      }
      try {
        window.localStorage.setItem(storeKey, JSON.stringify({ cells: answers, saved: new Date().toISOString() }));
        root.dataset.saved = String(Date.now());
      } catch (e) {
        setStatus("Your work could not be saved in this browser (" + e.name + "): download the notebook to keep it.");
      }
    }
    window.addEventListener("beforeunload", () => { if (saveTimer) save(); });

    function setStatus(text) {
      status.textContent = text;
    }

    // ---- Python: one worker at a time, started by the first Run ----
    let worker = null, workerReady = false, nextId = 1;
    const pending = new Map(); // id -> {cell, resolve}
    let running = null; // the pending entry whose cell runs now

    function startWorker() {
      worker = new Worker(WORKER_URL);
      workerReady = false;
      root.dataset.python = "loading";
      setStatus("Loading Python (about 17 MB the first time, then from your browser's cache)…");
      worker.onmessage = (event) => {
        const m = event.data;
        if (m.type === "status") setStatus(m.text);
        else if (m.type === "timing") root.dataset.timing = JSON.stringify(m.marks);
        else if (m.type === "ready") {
          workerReady = true;
          root.dataset.python = "ready";
          setStatus("Python is ready.");
        } else if (m.type === "fatal") {
          root.dataset.python = "failed";
          setStatus("Python could not start: " + m.message);
          for (const [id, entry] of pending) {
            showError(entry.cell, { ename: "Error", evalue: "Python could not start: " + m.message, traceback: "" });
            entry.resolve();
          }
          pending.clear();
          worker.terminate();
          worker = null;
        } else if (m.type === "stream") {
          const entry = pending.get(m.id);
          if (entry && !entry.quiet) appendStream(entry.cell, m.name, m.text);
        } else if (m.type === "done") {
          const entry = pending.get(m.id);
          pending.delete(m.id);
          if (!entry) return;
          if (!entry.quiet) finish(entry.cell, m);
          entry.resolve();
        }
      };
      worker.onerror = (event) => {
        event.preventDefault();
        setStatus("Python stopped unexpectedly: " + (event.message || "worker error") + ". Press Run to start it again.");
      };
    }

    function execute(cell, quiet) {
      if (!worker) startWorker();
      const id = nextId++;
      return new Promise((resolve) => {
        const entry = { cell, quiet, resolve: () => resolve(), started: false };
        pending.set(id, entry);
        if (!quiet) clearOutput(cell);
        const code = cell.editor ? cell.editor.getText() : cell.releaseSource;
        worker.postMessage({ type: "run", id, code, name: "Cell " + cell.id });
      });
    }

    // Runs go one after another; the chain is replaced when Stop ends the worker.
    let chain = Promise.resolve(), generation = 0, busy = 0;
    function enqueue(cell, quiet) {
      const mine = generation;
      busy++;
      if (!quiet) setState(cell, "queued");
      updateButtons();
      const step = chain.then(() => {
        if (mine !== generation) return;
        running = cell;
        if (!quiet) setState(cell, "running");
        if (workerReady) setStatus("Running cell " + cell.id + "…");
        return execute(cell, quiet).then(() => { if (mine === generation) cell.ran = true; });
      }).finally(() => {
        if (mine !== generation) return; // Stop or Reset already counted it out
        busy--;
        if (running === cell) running = null;
        updateButtons();
        if (!busy && workerReady) setStatus("Python is ready.");
      });
      chain = step.catch(() => {});
      return step;
    }

    function runUpTo(target) {
      // the cells above that have not run in this Python session yet, then the cell itself
      for (const cell of cells) {
        if (cell.index >= target.index) break;
        if (!cell.ran && !isQueued(cell)) enqueue(cell, false);
      }
      return enqueue(target, false);
    }
    function isQueued(cell) {
      return ["queued", "running"].includes(cell.element.dataset.state);
    }
    function runAll() {
      for (const cell of cells) enqueue(cell, false);
    }

    function stop() {
      if (!worker) return;
      const stopped = running;
      worker.terminate();
      worker = null;
      workerReady = false;
      generation++;
      for (const [, entry] of pending) entry.resolve();
      pending.clear();
      for (const cell of cells) {
        if (cell === stopped) {
          setState(cell, "stopped");
          appendNote(cell, "Stopped: Python was restarted. The cells above ran again; fix the code and run this cell again.");
        } else if (isQueued(cell)) {
          setState(cell, "idle");
        }
      }
      const above = cells.filter((c) => c.ran && stopped && c.index < stopped.index);
      for (const cell of cells) cell.ran = false;
      chain = Promise.resolve();
      busy = 0;
      updateButtons();
      setStatus("Stopped. Starting a fresh Python and running the cells above again…");
      for (const cell of above) enqueue(cell, true);
      if (!above.length) startWorker();
    }

    // ---- outputs ----
    function setState(cell, state) {
      cell.element.dataset.state = state;
    }
    function clearOutput(cell) {
      cell.output.textContent = "";
      cell.printed = 0;
      delete cell.element.dataset.verdict;
    }
    function appendStream(cell, name, text) {
      if (cell.printed >= MAX_OUTPUT) return;
      cell.printed = (cell.printed || 0) + text.length;
      if (cell.printed >= MAX_OUTPUT) text = text.slice(0, MAX_OUTPUT) + "\n[output cut at " + MAX_OUTPUT + " characters]\n";
      let last = cell.output.lastElementChild;
      if (!last || !last.classList.contains("bp-" + name)) {
        last = document.createElement("pre");
        last.className = "bp-stream bp-" + name;
        cell.output.appendChild(last);
      }
      last.textContent += text;
    }
    function appendNote(cell, text) {
      const note = document.createElement("p");
      note.className = "bp-note";
      note.textContent = text;
      cell.output.appendChild(note);
    }
    function showError(cell, error) {
      const box = document.createElement("div");
      box.className = "bp-error";
      const line = document.createElement("pre");
      line.className = "bp-error-line";
      line.textContent = error.ename + (error.evalue ? ": " + error.evalue : "");
      box.appendChild(line);
      if (error.traceback) {
        const details = document.createElement("details");
        const summary = document.createElement("summary");
        summary.textContent = "Traceback";
        const pre = document.createElement("pre");
        pre.textContent = error.traceback;
        details.append(summary, pre);
        box.appendChild(details);
      }
      cell.output.appendChild(box);
    }
    function finish(cell, result) {
      cell.element.dataset.doneAt = String(performance.timeOrigin + performance.now()); // for the benchmark
      if (result.ok) {
        if (result.value !== null && result.value !== undefined) appendStream(cell, "value", result.value + "\n");
        setState(cell, "ok");
      } else {
        showError(cell, result.error);
        setState(cell, "error");
      }
      if (cell.kind === "test") {
        cell.element.dataset.verdict = result.ok ? "passed" : "failed";
        const verdict = document.createElement("p");
        verdict.className = "bp-verdict " + (result.ok ? "bp-passed" : "bp-failed");
        verdict.textContent = result.ok ? "✓ Test passed" : "✗ Test failed: its message says why";
        cell.output.prepend(verdict);
      }
    }

    // ---- Reset and Download ----
    function reset() {
      if (!window.confirm("Reset brings back the exercise as released: your answers on this page are lost. Reset?")) return;
      for (const cell of editable) cell.editor.setText(cell.releaseSource);
      clearTimeout(saveTimer);
      saveTimer = null;
      window.localStorage.removeItem(storeKey);
      if (worker) { worker.terminate(); worker = null; workerReady = false; }
      generation++;
      pending.clear();
      chain = Promise.resolve();
      busy = 0;
      for (const cell of cells) { cell.ran = false; clearOutput(cell); setState(cell, "idle"); }
      root.dataset.python = "none";
      updateButtons();
      setStatus("Reset to the release. Python starts again when you press Run.");
    }

    function lines(text) {
      return text.match(/[^\n]*\n|[^\n]+$/g) || [];
    }

    function download() {
      const notebook = JSON.parse(JSON.stringify(release));
      for (const cell of editable) notebook.cells[cell.index].source = lines(cell.editor.getText());
      for (const cell of notebook.cells) {
        if (cell.cell_type === "code") { cell.outputs = []; cell.execution_count = null; }
      }
      const blob = new Blob([JSON.stringify(notebook, null, 1) + "\n"], { type: "application/x-ipynb+json" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = assignment + ".ipynb";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    }

    function updateButtons() {
      buttons.stop.disabled = !(worker && busy > 0);
      root.dataset.busy = busy > 0 ? "yes" : "no";
    }

    for (const cell of cells) {
      const button = cell.element.querySelector(".bp-run-cell");
      button.disabled = false;
      button.addEventListener("click", () => runUpTo(cell));
    }
    buttons.runAll.addEventListener("click", runAll);
    buttons.stop.addEventListener("click", stop);
    buttons.reset.addEventListener("click", reset);
    buttons.download.addEventListener("click", download);
    buttons.runAll.disabled = buttons.reset.disabled = buttons.download.disabled = false;
    root.dataset.python = "none";
    root.dataset.ready = "yes";
    fitMathWhenTypeset(root);
  }

  // A display formula of a notebook is written for Jupyter's wide cells; where it is wider than
  // this page's column it is shrunk to fit (chapters break theirs into lines; a release's text is
  // shown as it is).
  function fitMathWhenTypeset(root) {
    const fit = () => {
      for (const math of root.querySelectorAll('mjx-container[display="true"]')) {
        if (!math.dataset.fontSize) math.dataset.fontSize = String(parseFloat(getComputedStyle(math).fontSize));
        math.style.fontSize = math.dataset.fontSize + "px";
        const inner = math.firstElementChild.getBoundingClientRect().width;
        const box = math.getBoundingClientRect().width;
        if (inner > box && inner > 0) math.style.fontSize = (Number(math.dataset.fontSize) * box / inner * 0.98) + "px";
      }
      root.dataset.mathFitted = "yes";
    };
    // measure once MathJax has typeset and its web fonts have loaded (they change the widths)
    const whenTypeset = () => {
      const startup = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
      return Promise.all([startup || Promise.resolve(), document.fonts ? document.fonts.ready : null]);
    };
    window.addEventListener("load", () => whenTypeset().then(fit));
    let timer = null;
    window.addEventListener("resize", () => { clearTimeout(timer); timer = setTimeout(fit, 100); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
