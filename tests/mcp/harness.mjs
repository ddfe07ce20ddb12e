// Test harness for the MCP suites: a real redis-server on a free loopback
// port (or ARUN_TEST_REDIS_URL, as tests/integration/harness.py does), a
// real arun-worker from the build tree, a temp folder with the SQLite file
// and a scripts folder (the analytics scripts plus the integration
// fixtures), and a key prefix of its own. Standard library only.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "..", "..");
export const BUILD = process.env.ARUN_BUILD_DIR || path.join(ROOT, "build");
export const WORKER = path.join(BUILD, "worker", "arun-worker");
export const MCP = path.join(BUILD, "mcp", "arun-mcp");
export const HTTP = path.join(BUILD, "http", "arun-http");
const PYTHON = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls pred (sync or async) until truthy; throws after timeoutMs. */
export async function waitFor(pred, timeoutMs = 10000, what = "condition") {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function redisPing(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1");
    c.on("error", () => resolve(false));
    c.on("data", (d) => { c.destroy(); resolve(d.toString().startsWith("+PONG")); });
    c.on("connect", () => c.write("PING\r\n"));
  });
}

/** One command over RESP (inline), for checks; returns the raw reply text. */
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1");
    let out = "";
    c.on("error", reject);
    c.on("data", (d) => { out += d.toString(); c.end(); });
    c.on("end", () => resolve(out));
    c.on("connect", () => {
      const parts = args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`);
      c.write(`*${args.length}\r\n${parts.join("")}`);
    });
  });
}

export class Env {
  async start({ workerEnv = {} } = {}) {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), "arun-mcp-test-"));
    this.prefix = "m" + randomBytes(5).toString("hex");
    this.db = path.join(this.tmp, "var", "arun.db");
    this.scripts = path.join(this.tmp, "scripts");
    fs.mkdirSync(this.scripts);
    const analytics = path.join(ROOT, "analytics");
    for (const f of fs.readdirSync(analytics)) {
      if (f.endsWith(".py") || f === "arunlib") fs.symlinkSync(path.join(analytics, f), path.join(this.scripts, f));
    }
    const fixtures = path.join(ROOT, "tests", "integration", "fixtures");
    for (const f of ["sleepy.py", "echo.py"]) fs.copyFileSync(path.join(fixtures, f), path.join(this.scripts, f));
    if (process.env.ARUN_TEST_REDIS_URL) {
      this.redisUrl = process.env.ARUN_TEST_REDIS_URL;
      this.redisPort = Number(this.redisUrl.split(":").pop().split("/")[0]);
    } else {
      this.redisPort = await freePort();
      this.redis = spawn("redis-server", ["--port", String(this.redisPort), "--bind", "127.0.0.1",
        "--dir", this.tmp, "--save", "", "--appendonly", "no"], { stdio: "ignore" });
      this.redisUrl = `redis://127.0.0.1:${this.redisPort}/0`;
      await waitFor(() => redisPing(this.redisPort), 10000, "redis-server");
    }
    this.worker = spawn(WORKER, [], { env: this.env(workerEnv), stdio: ["ignore", "ignore", fs.openSync(path.join(this.tmp, "worker.log"), "w")] });
    await waitFor(async () => (await redisCommand(this.redisPort, "KEYS", `${this.prefix}:worker:*`)).includes(this.prefix), 10000, "the worker's heartbeat");
    return this;
  }

  env(extra = {}) {
    return { ...process.env, ARUN_REDIS_URL: this.redisUrl, ARUN_PREFIX: this.prefix, ARUN_DB: this.db,
      ARUN_SCRIPTS_DIR: this.scripts, ARUN_PYTHON: PYTHON, ARUN_CONCURRENCY: "2",
      ARUN_KILL_GRACE_MS: "500", ARUN_LOG_LEVEL: "info", ...extra };
  }

  /** Starts arun-http on a free loopback port; returns its base URL. */
  async startHttp(token) {
    const port = await freePort();
    const extra = { ARUN_HTTP_LISTEN: `127.0.0.1:${port}` };
    if (token) extra.ARUN_HTTP_TOKEN = token;
    const p = spawn(HTTP, [], { env: this.env(extra), stdio: ["ignore", "ignore", fs.openSync(path.join(this.tmp, `http-${port}.log`), "w")] });
    (this.https ||= []).push(p);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => {
      if (p.exitCode !== null) throw new Error(`arun-http exited: ${fs.readFileSync(path.join(this.tmp, `http-${port}.log`), "utf8")}`);
      try { return (await fetch(`${url}/healthz`)).status > 0; } catch { return false; }
    }, 10000, "arun-http");
    return url;
  }

  workerLog() {
    return fs.readFileSync(path.join(this.tmp, "worker.log"), "utf8");
  }

  async stop() {
    for (const p of [...(this.https || []), this.worker, this.redis]) {
      if (p && p.exitCode === null) {
        const done = new Promise((r) => p.once("exit", r));
        p.kill("SIGKILL");
        await done;
      }
    }
    if (!process.env.ARUN_TEST_KEEP) fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Does the worker honour cancels? (the second stage's worker does; this
 * tree's worker/ is looked at, or ARUN_TEST_WORKER_CANCELS=1 says so) */
export function workerCancels() {
  if (process.env.ARUN_TEST_WORKER_CANCELS === "1") return true; // a worker built elsewhere
  const r = spawnSync("grep", ["-rlq", "keys_cancel", path.join(ROOT, "worker")]);
  return r.status === 0;
}
