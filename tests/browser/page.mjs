// The job history page in headless Chromium, against a real redis-server,
// arun-http and arun-worker: run a script from the form and see its row go
// queued -> running -> success without a reload, open its output, filter by
// status, start a sleeper and cancel it, and the token prompt. Screenshots
// go to BUILD/screenshots/ (list, detail, phone) for people to look at.
//   node page.mjs BUILD_DIR
import { spawn } from "node:child_process";
import { mkdtempSync, cpSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const build = process.argv[2] || join(here, "..", "..", "build");
const shots = join(build, "screenshots");
mkdirSync(shots, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), "arun-browser-"));
const scripts = join(tmp, "scripts");
cpSync(join(here, "..", "integration", "fixtures"), scripts, { recursive: true });
const prefix = "b" + Math.random().toString(16).slice(2, 10);
const procs = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred, what, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await sleep(50);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on("error", reject);
  });
}

function start(name, cmd, args, env) {
  const log = join(tmp, name + ".log");
  const p = spawn("/bin/sh", ["-c", 'exec "$0" "$@" >>"' + log + '" 2>&1', cmd, ...args],
                  { env: { ...process.env, ...env }, stdio: "ignore" });
  p.logPath = log;
  procs.push(p);
  return p;
}

const readLog = (p) => { try { return readFileSync(p.logPath, "utf8"); } catch { return ""; } };

let redisUrl = process.env.ARUN_TEST_REDIS_URL;
if (!redisUrl) {
  const port = await freePort();
  start("redis", "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", tmp,
                                  "--save", "", "--appendonly", "no"], {});
  redisUrl = "redis://127.0.0.1:" + port + "/0";
}
const env = {
  ARUN_REDIS_URL: redisUrl, ARUN_PREFIX: prefix, ARUN_DB: join(tmp, "arun.db"),
  ARUN_SCRIPTS_DIR: scripts, ARUN_PYTHON: "/usr/bin/python3", ARUN_CONCURRENCY: "2",
  ARUN_KILL_GRACE_MS: "500", ARUN_LOG_LEVEL: "debug",
};

async function startHttp(name, extra) {
  const p = start(name, join(build, "http", "arun-http"), ["--listen", "127.0.0.1:0", ...extra], env);
  const port = await waitFor(() => {
    const m = /\(port (\d+)\)/.exec(readLog(p));
    if (p.exitCode !== null) throw new Error(name + " exited:\n" + readLog(p));
    return m && Number(m[1]);
  }, name + " to listen");
  return "http://127.0.0.1:" + port;
}

let browser;
const steps = [];
const step = (name, fn) => steps.push([name, fn]);

async function rowStatus(page, id) {
  return page.locator('#jobs tbody tr[data-id="' + id + '"] .badge').textContent({ timeout: 500 }).catch(() => null);
}

async function submitFromForm(page, script, args) {
  await page.selectOption("#run-script", script);
  await page.fill("#run-args", args);
  const before = await page.textContent("#run-msg");
  await page.click("#run-btn");
  const msg = await waitFor(async () => {
    const t = await page.textContent("#run-msg");
    return t !== before && /job (\S+)\.$/.exec(t);
  }, "the form to queue the job");
  return msg[1];
}

const base = await startHttp("http", []);
let page;

step("the page loads with the script list", async () => {
  await page.goto(base + "/");
  await page.waitForSelector('#run-script option[value="sleepy"]', { state: "attached" });
  await waitFor(async () => (await page.textContent("#live")) === "live", "the events stream");
});

let first;
step("a job run from the form goes queued -> running -> success live", async () => {
  // no worker yet: the job must show as queued
  first = await submitFromForm(page, "sleepy", "1.5");
  await waitFor(async () => (await rowStatus(page, first)) === "queued", "the queued row");
  await page.screenshot({ path: join(shots, "page-queued.png") });
  start("worker", join(build, "worker", "arun-worker"), [], env);
  await waitFor(async () => (await rowStatus(page, first)) === "running", "the running row");
  await waitFor(async () => (await rowStatus(page, first)) === "success", "the success row");
  const cells = await page.locator('#jobs tbody tr[data-id="' + first + '"] td').allTextContents();
  assert.equal(cells[1], "sleepy");
  assert.equal(cells[2], "api");
  assert.match(cells[3], /^1\.\d\d s$/);
  assert.equal(cells[7], "0");
});

step("its detail shows the args and the output", async () => {
  await page.click('#jobs tbody tr[data-id="' + first + '"]');
  await page.waitForSelector("#detail:not([hidden])");
  await waitFor(async () => (await page.textContent("#d-output")).includes("slept"), "the output");
  assert.match(await page.textContent("#d-fields"), /\["1\.5"\]/);
  assert.equal(await page.textContent("#d-status"), "success");
  await page.screenshot({ path: join(shots, "page-detail.png") });
  await page.keyboard.press("Escape");
  await page.waitForSelector("#detail", { state: "hidden" });
});

step("the keyboard opens a failed job with its error output", async () => {
  const id = await submitFromForm(page, "echo", "--exit 3");
  await waitFor(async () => (await rowStatus(page, id)) === "error", "the error row");
  // the keyboard opens a row too
  await page.focus('#jobs tbody tr[data-id="' + id + '"]');
  await page.keyboard.press("Enter");
  await waitFor(async () => (await page.textContent("#d-output")).includes("to stderr"), "stderr");
  assert.match(await page.textContent("#d-fields"), /exit code\s*3/);
  await page.keyboard.press("Escape");
});

step("filtering by status", async () => {
  await page.selectOption("#f-status", "success");
  await waitFor(async () => {
    const all = await page.locator("#jobs tbody .badge").allTextContents();
    return all.length > 0 && all.every((s) => s === "success");
  }, "only success rows");
  await page.selectOption("#f-status", "error");
  await waitFor(async () => {
    const all = await page.locator("#jobs tbody .badge").allTextContents();
    return all.length === 1 && all[0] === "error";
  }, "only the error row");
  await page.selectOption("#f-status", "");
  await waitFor(async () => (await page.locator("#jobs tbody tr").count()) >= 2, "every row again");
  await page.screenshot({ path: join(shots, "page-list.png") });
});

step("a phone-sized screen", async () => {
  const phone = await browser.newPage();
  await phone.setViewportSize({ width: 390, height: 800 });
  await phone.goto(base + "/");
  await phone.waitForSelector("#jobs tbody tr");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(overflow, false, "the page scrolls sideways on a phone");
  await phone.screenshot({ path: join(shots, "page-phone.png"), fullPage: true });
  await phone.close();
});

step("the token is asked for once and kept for the session", async () => {
  const secured = await startHttp("http-token", ["--token", "page-token"]);
  const p = await browser.newPage();
  await p.goto(secured + "/");
  await p.waitForSelector("#token-box:not([hidden])");
  await p.fill("#token", "page-token");
  await p.click("#token-form button");
  await p.waitForSelector('#run-script option[value="echo"]', { state: "attached" });
  await p.reload();
  await p.waitForSelector('#run-script option[value="echo"]', { state: "attached" });
  assert.equal(await p.isHidden("#token-box"), true);
  await p.close();
});

// Needs the worker's cancellation (SET P:cancel:ID + PUBLISH P:cancel ID).
step("a sleeper is cancelled from its row", async () => {
  const id = await submitFromForm(page, "sleepy", "60");
  await waitFor(async () => (await rowStatus(page, id)) === "running", "the sleeper to run");
  await page.click('#jobs tbody tr[data-id="' + id + '"] button.cancel');
  await waitFor(async () => (await rowStatus(page, id)) === "cancelled", "the cancelled row", 15000);
});

let failed = 0;
try {
  // a fresh profile (--user-data-dir) each run: playwright passes it itself
  browser = await chromium.launchPersistentContext(join(tmp, "profile"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage();
  page.on("pageerror", (e) => { console.log("page error: " + e.message); failed++; });
  // a Content-Security-Policy violation or a failed request shows here
  page.on("console", (m) => { if (m.type() === "error") { console.log("console error: " + m.text()); failed++; } });
  for (const [name, fn] of steps) {
    const t0 = Date.now();
    try {
      await fn();
      console.log("ok   " + name + " (" + (Date.now() - t0) + " ms)");
    } catch (e) {
      failed++;
      console.log("FAIL " + name + "\n     " + String(e.stack || e).split("\n").slice(0, 4).join("\n     "));
      await page.screenshot({ path: join(shots, "failure-" + failed + ".png") }).catch(() => {});
    }
  }
} finally {
  if (browser) await browser.close();
  for (const p of procs.reverse()) if (p.exitCode === null) p.kill("SIGTERM");
  await sleep(200);
  if (failed) for (const p of procs) console.log("---- " + p.logPath + "\n" + readLog(p).split("\n").slice(-15).join("\n"));
  rmSync(tmp, { recursive: true, force: true });
}
console.log(failed ? failed + " step(s) failed" : "all steps passed; screenshots in " + shots);
process.exit(failed ? 1 : 0);
