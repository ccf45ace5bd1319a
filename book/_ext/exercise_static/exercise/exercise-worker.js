// The Python of an exercise page: Pyodide (vendored in ../pyodide/) in a Web Worker, so that a
// long or endless computation never freezes the page. The page ends this worker to stop one.
//
// page -> worker  {type: "run", id, name, code}
// worker -> page  {type: "status", text} | {type: "ready"} | {type: "fatal", message}
//                 {type: "stream", id, name: "stdout"|"stderr", text}
//                 {type: "done", id, ok, value, error: {ename, evalue, traceback}}
//                 {type: "timing", marks: [[name, epoch ms], ...]}  (the start's phases, for the benchmark)
"use strict";

const marks = [];
const mark = (name) => marks.push([name, performance.timeOrigin + performance.now()]);
mark("worker-start");
for (const name of ["instantiateStreaming", "instantiate"]) { // how long the wasm fetch+compile takes
  const original = WebAssembly[name];
  if (!original) continue;
  WebAssembly[name] = function (...args) {
    mark("wasm-" + name + "-begin");
    const result = original.apply(this, args);
    result.then(() => mark("wasm-" + name + "-end"), () => {});
    return result;
  };
}

const indexURL = new URL("../pyodide/", self.location.href).href;
importScripts(indexURL + "pyodide.js");
mark("pyodide.js-loaded");

let current = null; // id of the cell that runs now: its prints go under it

// The runner: runs a cell's code in one namespace shared by all cells (as a notebook's kernel),
// shows the value of a last bare expression as Jupyter does, and returns errors as data with
// the traceback of the cell's own code only.
const RUNNER = `
import ast, builtins, json, linecache, sys, traceback
import bp_bridge

class _Stream:
    def __init__(self, name):
        self.name = name
    def write(self, text):
        if text:
            bp_bridge.stream(self.name, str(text))
        return len(text)
    def flush(self):
        pass
    def isatty(self):
        return False

sys.stdout, sys.stderr = _Stream("stdout"), _Stream("stderr")

def _display(*objects, **kwargs):
    for obj in objects:
        print(repr(obj))

_namespace = {"__name__": "__main__", "__builtins__": builtins, "display": _display}

def _bp_error(error):
    tb = error.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("Cell "):
        tb = tb.tb_next  # drop the runner's own frames
    lines = traceback.format_exception(type(error), error, tb)
    return {"ename": type(error).__name__, "evalue": str(error), "traceback": "".join(lines)}

def _bp_run(code, name):
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)  # tracebacks show the lines
    try:
        tree = ast.parse(code, name, "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, name, "exec"), _namespace)
        value = eval(compile(last, name, "eval"), _namespace) if last is not None else None
        return json.dumps({"ok": True, "value": None if value is None else repr(value)})
    except BaseException as error:  # a student's SystemExit or KeyboardInterrupt is a failed cell too
        return json.dumps({"ok": False, "error": _bp_error(error)})
`;

// A second visit starts faster from a memory snapshot of the freshly started interpreter (before
// numpy and before any of the student's code), made on the first visit and kept in this browser's
// Cache Storage. It is made by this site's own Pyodide; one that fails to load is deleted and
// Python starts as on a first visit.
const SNAPSHOT_CACHE = "bpcourse-python";
const SNAPSHOT_KEY = indexURL + "bp-memory-snapshot-" + "0.27.7";

async function readSnapshot() {
  try {
    const cache = await caches.open(SNAPSHOT_CACHE);
    const response = await cache.match(SNAPSHOT_KEY);
    return response ? new Uint8Array(await response.arrayBuffer()) : null;
  } catch (error) {
    return null; // no Cache Storage (a private window, an insecure origin): start as on a first visit
  }
}

async function writeSnapshot(bytes) {
  try {
    const cache = await caches.open(SNAPSHOT_CACHE);
    await cache.put(SNAPSHOT_KEY, new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }));
  } catch (error) {
    // a full or missing store only costs the next visit its head start
  }
}

async function dropSnapshot() {
  try {
    await (await caches.open(SNAPSHOT_CACHE)).delete(SNAPSHOT_KEY);
  } catch (error) {}
}

async function startPython() {
  // exercise-lock.json: Pyodide's lock cut to numpy (tools/vendor_browser_runtime.py), 1 KB not 112 KB
  const options = { indexURL, lockFileURL: indexURL + "exercise-lock.json", stdout: () => {}, stderr: () => {} };
  const snapshot = await readSnapshot();
  mark("snapshot-read");
  if (snapshot) {
    try {
      const pyodide = await loadPyodide({ ...options, _loadSnapshot: snapshot });
      pyodide.runPython("import sys");
      mark("python-from-snapshot");
      return pyodide;
    } catch (error) {
      await dropSnapshot();
    }
  }
  const pyodide = await loadPyodide({ ...options, _makeSnapshot: true });
  try {
    const bytes = pyodide.makeMemorySnapshot();
    mark("snapshot-made");
    writeSnapshot(bytes); // not awaited: the first visit does not wait for the store
  } catch (error) {}
  return pyodide;
}

async function start() {
  self.postMessage({ type: "status", text: "Loading Python…" });
  const pyodide = await startPython();
  mark("python-ready");
  self.postMessage({ type: "status", text: "Loading numpy…" });
  const problems = [];
  // loadPackage only warns when a wheel fails its integrity check: collect and fail loudly
  await pyodide.loadPackage(["numpy"], { messageCallback: () => {}, errorCallback: (e) => problems.push(e) });
  if (problems.length) throw new Error("numpy could not be loaded: " + problems.join("; "));
  mark("numpy-loaded");
  pyodide.runPython("import numpy");
  mark("numpy-imported");
  pyodide.registerJsModule("bp_bridge", {
    stream: (name, text) => self.postMessage({ type: "stream", id: current, name, text }),
  });
  pyodide.runPython(RUNNER);
  mark("runner-ready");
  self.postMessage({ type: "timing", marks: marks.slice() });
  return pyodide;
}

const ready = start();
ready.then(
  () => self.postMessage({ type: "ready" }),
  (error) => self.postMessage({ type: "fatal", message: String(error && error.message ? error.message : error) })
);

let queue = Promise.resolve();
self.onmessage = (event) => {
  const message = event.data;
  if (message.type !== "run") return;
  queue = queue.then(async () => {
    const pyodide = await ready;
    current = message.id;
    const run = pyodide.globals.get("_bp_run");
    let result;
    try {
      result = JSON.parse(run(message.code, message.name));
    } finally {
      run.destroy();
    }
    self.postMessage({ type: "done", id: message.id, ...result });
  }).catch(() => {}); // a failed start was reported as "fatal"
};
