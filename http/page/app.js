// The arun job history page: the job list (filters, pages), the run form,
// a job's detail with its live output, cancel, and a duration chart. It
// talks only to arun-http's API; live updates come from the event streams,
// read with fetch() (not EventSource) so that a bearer token can be sent.
"use strict";

const $ = (id) => document.getElementById(id);
const ACTIVE = new Set(["queued", "running"]);
const COLORS = ["#2456d6", "#16803c", "#c4291c", "#b25e00", "#7c3aed", "#0e7490", "#be185d", "#4d7c0f"];

const state = {
  token: sessionStorage.getItem("arun.token") || "",
  cursors: [""],      // the `before` of each page seen; [0] is the first page
  page: 0,
  next: null,
  jobs: [],
  detail: null,       // {id, stop} of the open job
  pending: new Map(), // jobs queued from this page that have no row yet
  refreshTimer: null,
  pollTimer: null,
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function authHeaders(extra) {
  const h = Object.assign({}, extra || {});
  if (state.token) h.Authorization = "Bearer " + state.token;
  return h;
}

async function api(path, opts) {
  opts = opts || {};
  const r = await fetch(path, Object.assign({}, opts, { headers: authHeaders(opts.headers), cache: "no-store" }));
  if (r.status === 401) {
    askToken();
    throw new Error("this server needs a token");
  }
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    const err = new Error(body && body.error ? body.error.message : r.status + " " + r.statusText);
    err.status = r.status;
    err.body = body;
    throw err;
  }
  return body;
}

// Reads a Server-Sent Events stream with fetch. onEvent(name, data, id)
// returns false to stop. Reconnects after 2 s, sending Last-Event-ID.
// Returns a function that stops it.
function sse(path, onEvent, opts) {
  opts = opts || {};
  const ctl = new AbortController();
  let stopped = false, last = null;
  (async () => {
    while (!stopped) {
      try {
        const headers = authHeaders(last ? { "Last-Event-ID": last } : {});
        const r = await fetch(path, { headers, signal: ctl.signal, cache: "no-store" });
        if (r.status === 401) { askToken(); return; }
        if (!r.ok || !r.body) throw new Error("stream answered " + r.status);
        if (opts.onOpen) opts.onOpen(true);
        const reader = r.body.getReader(), dec = new TextDecoder();
        let buf = "", ev = { name: "message", data: [], id: null };
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, i).replace(/\r$/, "");
            buf = buf.slice(i + 1);
            if (line === "") {
              if (ev.data.length) {
                if (ev.id) last = ev.id;
                if (onEvent(ev.name, ev.data.join("\n"), ev.id) === false) {
                  stopped = true;
                  ctl.abort();
                  return;
                }
              }
              ev = { name: "message", data: [], id: null };
            } else if (line[0] !== ":") {
              const c = line.indexOf(":");
              const field = c < 0 ? line : line.slice(0, c);
              let v = c < 0 ? "" : line.slice(c + 1);
              if (v[0] === " ") v = v.slice(1);
              if (field === "event") ev.name = v;
              else if (field === "data") ev.data.push(v);
              else if (field === "id") ev.id = v;
            }
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      if (opts.onOpen) opts.onOpen(false);
      await sleep(2000);
    }
  })();
  return () => { stopped = true; ctl.abort(); };
}

// ---- formatting --------------------------------------------------------------

function fmtDur(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return ms + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
  const m = Math.floor(ms / 60000), s = Math.round((ms % 60000) / 1000);
  return m + " m " + s + " s";
}

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function badge(status) {
  return el("span", { class: "badge s-" + status, "data-status": status }, status);
}

// Splits an argument line like a shell would for words and quotes (no
// variables, no globbing: the args go to the script verbatim).
function splitArgs(s) {
  const out = [];
  let cur = null, q = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (q) {
      if (ch === q) q = null;
      else if (ch === "\\" && q === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      q = ch;
      cur = cur === null ? "" : cur;
    } else if (/\s/.test(ch)) {
      if (cur !== null) out.push(cur);
      cur = null;
    } else if (ch === "\\" && i + 1 < s.length) {
      cur = (cur === null ? "" : cur) + s[++i];
    } else {
      cur = (cur === null ? "" : cur) + ch;
    }
  }
  if (cur !== null) out.push(cur);
  return out;
}

// ---- token ---------------------------------------------------------------------

function askToken() {
  $("token-box").hidden = false;
  $("token").focus();
}

$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  state.token = $("token").value.trim();
  sessionStorage.setItem("arun.token", state.token);
  $("token-box").hidden = true;
  start();
});

// ---- the list --------------------------------------------------------------------

function listQuery() {
  const p = new URLSearchParams();
  const f = { script: $("f-script").value, status: $("f-status").value,
              trigger: $("f-trigger").value.trim(), id: $("f-id").value.trim() };
  for (const k in f) if (f[k]) p.set(k, f[k]);
  const before = state.cursors[state.page];
  if (before) p.set("before", before);
  p.set("limit", "25");
  return p.toString();
}

function renderRow(job) {
  const tr = el("tr", { tabindex: "0", "data-id": job.id });
  const cells = [
    ["Status", badge(job.status)],
    ["Script", job.script],
    ["Trigger", job.trigger_type || job.trigger || ""],
    ["Duration", fmtDur(job.duration_ms)],
    ["Created", fmtTime(job.created_at)],
    ["Started", fmtTime(job.started_at)],
    ["Finished", fmtTime(job.completed_at)],
    ["Exit", job.exit_code === null || job.exit_code === undefined ? "" : String(job.exit_code)],
  ];
  for (const [label, v] of cells) {
    const td = el("td", { "data-label": label });
    if (typeof v === "string") td.textContent = v; else td.appendChild(v);
    if (label === "Duration" || label === "Exit") td.className = "num";
    tr.appendChild(td);
  }
  const act = el("td");
  if (ACTIVE.has(job.status)) {
    const b = el("button", { type: "button", class: "link cancel", "aria-label": "Cancel job " + job.id }, "Cancel");
    b.addEventListener("click", (e) => { e.stopPropagation(); cancelJob(job.id); });
    act.appendChild(b);
  }
  tr.appendChild(act);
  tr.addEventListener("click", () => openDetail(job.id));
  tr.addEventListener("keydown", (e) => {
    if (e.target === tr && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); openDetail(job.id); }
  });
  return tr;
}

async function loadList() {
  let body;
  try {
    body = await api("/api/analytics/jobs?" + listQuery());
  } catch (e) {
    $("empty").hidden = false;
    $("empty").textContent = "Cannot load jobs: " + e.message;
    return;
  }
  // a job queued here has no row until a worker takes it: show it anyway
  for (const j of body.jobs) state.pending.delete(j.id);
  const filtered = ["f-script", "f-status", "f-trigger", "f-id"].some((k) => $(k).value);
  if (state.page === 0 && !filtered) body.jobs = [...state.pending.values()].concat(body.jobs);
  state.jobs = body.jobs;
  state.next = body.next;
  const tbody = $("jobs").tBodies[0];
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.id : null;
  tbody.replaceChildren(...body.jobs.map(renderRow));
  if (focused) {
    const again = tbody.querySelector('tr[data-id="' + CSS.escape(focused) + '"]');
    if (again) again.focus();
  }
  $("empty").hidden = body.jobs.length > 0;
  $("empty").textContent = "No jobs match.";
  $("newer").disabled = state.page === 0;
  $("older").disabled = !state.next;
  $("page-no").textContent = "page " + (state.page + 1);
  drawChart(body.jobs);
  schedulePoll();
}

// While a job on the page is queued or running, the page looks again
// every second: the event stream announces ends, not starts.
function schedulePoll() {
  clearTimeout(state.pollTimer);
  if (state.pending.size || state.jobs.some((j) => ACTIVE.has(j.status))) state.pollTimer = setTimeout(loadList, 1000);
}

function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(loadList, 150);
}

$("filters").addEventListener("input", () => { state.cursors = [""]; state.page = 0; refreshSoon(); });
$("filters").addEventListener("submit", (e) => e.preventDefault());
$("older").addEventListener("click", () => {
  if (!state.next) return;
  state.cursors[state.page + 1] = state.next;
  state.page++;
  loadList();
});
$("newer").addEventListener("click", () => { if (state.page > 0) { state.page--; loadList(); } });

// ---- the chart -------------------------------------------------------------------------

function svgEl(tag, attrs, text) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

// Durations of the jobs on the page over their start times, one line per
// script (at most as many scripts as there are colours).
function drawChart(jobs) {
  const box = $("chart");
  const pts = jobs.filter((j) => j.duration_ms !== null && j.duration_ms !== undefined && j.created_at)
    .map((j) => ({ script: j.script, t: Date.parse(j.created_at), d: j.duration_ms / 1000 }))
    .sort((a, b) => a.t - b.t);
  box.replaceChildren();
  if (pts.length < 2) return;
  const W = Math.max(box.clientWidth || 600, 200), H = 140, L = 56, R = 12, T = 12, B = 22;
  const t0 = pts[0].t, t1 = Math.max(pts[pts.length - 1].t, t0 + 1);
  const dmax = Math.max(...pts.map((p) => p.d), 0.001);
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (d) => H - B - (d / dmax) * (H - T - B);
  const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img",
                             "aria-label": "job durations per script over time" });
  svg.appendChild(svgEl("path", { d: "M" + L + " " + T + " V" + (H - B) + " H" + (W - R),
                                  stroke: "#c9ced8", fill: "none" }));
  const text = (x0, y0, s, anchor) => svg.appendChild(svgEl("text", { x: x0, y: y0, "font-size": "11",
    fill: "#667085", "text-anchor": anchor || "start" }, s));
  text(L - 6, T + 8, fmtDur(Math.round(dmax * 1000)), "end");
  text(L - 6, H - B, "0", "end");
  text(L, H - 6, fmtTime(new Date(t0).toISOString()));
  text(W - R, H - 6, fmtTime(new Date(t1).toISOString()), "end");
  const scripts = [...new Set(pts.map((p) => p.script))].slice(0, COLORS.length);
  const legend = el("div", { class: "legend" });
  scripts.forEach((s, i) => {
    const mine = pts.filter((p) => p.script === s);
    svg.appendChild(svgEl("polyline", {
      points: mine.map((p) => x(p.t).toFixed(1) + "," + y(p.d).toFixed(1)).join(" "),
      fill: "none", stroke: COLORS[i], "stroke-width": "1.5" }));
    for (const p of mine) {
      const c = svgEl("circle", { cx: x(p.t).toFixed(1), cy: y(p.d).toFixed(1), r: "3.5", fill: COLORS[i] });
      c.appendChild(svgEl("title", {}, s + ": " + fmtDur(Math.round(p.d * 1000))));
      svg.appendChild(c);
    }
    const item = el("span", null, s);
    const sw = el("span", { class: "swatch" });
    sw.style.background = COLORS[i];
    item.prepend(sw);
    legend.appendChild(item);
  });
  box.append(svg, legend);
}

// ---- running and cancelling ------------------------------------------------------------

function say(msg, isError) {
  $("run-msg").textContent = msg;
  $("run-msg").className = "msg" + (isError ? " error" : "");
}

$("run-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { script: $("run-script").value, args: splitArgs($("run-args").value) };
  $("run-btn").disabled = true;
  try {
    const r = await api("/api/analytics/jobs", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    say("Queued " + body.script + " as job " + r.id + ".");
    state.pending.set(r.id, { id: r.id, script: body.script, status: "queued", trigger_type: "api",
                              created_at: new Date().toISOString(), duration_ms: null, exit_code: null });
    state.cursors = [""];
    state.page = 0;
    await loadList();
  } catch (err) {
    say("Not queued: " + err.message, true);
  } finally {
    $("run-btn").disabled = false;
  }
});

async function cancelJob(id) {
  try {
    await api("/api/analytics/jobs/" + encodeURIComponent(id) + "/cancel", { method: "POST" });
    say("Cancelling job " + id + ".");
  } catch (err) {
    say("Not cancelled: " + err.message, true);
  }
  refreshSoon();
  if (state.detail && state.detail.id === id) loadDetail(id);
}

// ---- the detail view -----------------------------------------------------------------------

function field(dl, name, value) {
  if (value === null || value === undefined || value === "") return;
  dl.append(el("dt", null, name), el("dd", null, value));
}

async function loadDetail(id) {
  let job;
  try {
    job = await api("/api/analytics/jobs/" + encodeURIComponent(id));
  } catch (e) {
    $("d-fields").replaceChildren(el("dt", null, "error"), el("dd", null, e.message));
    return null;
  }
  if (!state.detail || state.detail.id !== id) return null;
  $("d-title").textContent = job.script + " · " + job.id;
  const st = $("d-status");
  st.className = "badge s-" + job.status;
  st.textContent = job.status;
  $("d-cancel").hidden = !ACTIVE.has(job.status);
  const dl = $("d-fields");
  dl.replaceChildren();
  field(dl, "args", job.args ? JSON.stringify(job.args) : "");
  field(dl, "trigger", job.trigger_type || job.trigger);
  field(dl, "exit code", job.exit_code === null ? "" : job.exit_code);
  field(dl, "signal", job.signal);
  field(dl, "duration", fmtDur(job.duration_ms));
  field(dl, "created", fmtTime(job.created_at));
  field(dl, "started", fmtTime(job.started_at));
  field(dl, "finished", fmtTime(job.completed_at));
  field(dl, "CPU user / sys", job.cpu_user_ms !== undefined && job.cpu_user_ms !== null
    ? fmtDur(job.cpu_user_ms) + " / " + fmtDur(job.cpu_sys_ms) : "");
  field(dl, "peak memory", job.max_rss_kb ? (job.max_rss_kb / 1024).toFixed(1) + " MiB" : "");
  field(dl, "attempts", job.attempts);
  field(dl, "worker", job.worker);
  field(dl, "queue", job.queue);
  if (!["success", "queued", "running"].includes(job.status) && job.stderr)
    field(dl, "error", job.stderr.trim().split("\n").slice(-3).join("\n"));
  return job;
}

function appendOutput(text, isErr) {
  const pre = $("d-output");
  const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  const span = el("span", isErr ? { class: "err" } : null, text + "\n");
  pre.appendChild(span);
  if (stick) pre.scrollTop = pre.scrollHeight;
}

async function openDetail(id) {
  closeDetail(true);
  state.detail = { id, stop: null, from: document.activeElement };
  $("detail").hidden = false;
  $("d-output").replaceChildren();
  $("d-fields").replaceChildren();
  $("d-close").focus();
  const job = await loadDetail(id);
  if (!job || !state.detail || state.detail.id !== id) return;
  $("d-follow").hidden = !ACTIVE.has(job.status);
  state.detail.stop = sse("/api/analytics/jobs/" + encodeURIComponent(id) + "/output", (name, data) => {
    if (name === "stdout" || name === "stderr") appendOutput(data, name === "stderr");
    if (name === "end") {
      $("d-follow").hidden = true;
      loadDetail(id);
      refreshSoon();
      return false;
    }
    return true;
  }, { onOpen: (up) => { if (up) $("d-output").replaceChildren(); } });
}

function closeDetail(quiet) {
  if (!state.detail) return;
  if (state.detail.stop) state.detail.stop();
  const back = state.detail.from;
  state.detail = null;
  $("detail").hidden = true;
  if (!quiet && back && back.isConnected) back.focus();
}

$("d-close").addEventListener("click", () => closeDetail());
$("d-cancel").addEventListener("click", () => { if (state.detail) cancelJob(state.detail.id); });
$("detail").addEventListener("click", (e) => { if (e.target === $("detail")) closeDetail(); });
document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeDetail(); });

// ---- start -------------------------------------------------------------------------------------

let stopEvents = null;

async function loadScripts() {
  const body = await api("/api/analytics/scripts");
  const run = $("run-script"), filt = $("f-script");
  run.replaceChildren(...body.scripts.map((s) => el("option", { value: s }, s)));
  filt.replaceChildren(el("option", { value: "" }, "any"), ...body.scripts.map((s) => el("option", { value: s }, s)));
}

async function start() {
  try {
    await loadScripts();
  } catch (e) {
    say(e.message, true);
    return;
  }
  await loadList();
  if (stopEvents) stopEvents();
  stopEvents = sse("/api/analytics/events", (name) => {
    if (name === "job.completed") refreshSoon();
    return true;
  }, { onOpen: (up) => { $("live").textContent = up ? "live" : "offline"; $("live").classList.toggle("on", up); } });
}

start();
