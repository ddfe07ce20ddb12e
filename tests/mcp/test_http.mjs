// arun-http's /mcp (Streamable HTTP), driven by the official MCP SDK
// client (StreamableHTTPClientTransport) with the bearer token, against a
// real redis-server, worker and SQLite; raw HTTP checks of the transport's
// rules (token, Origin and Host, protocol-version header, sessions,
// notifications, GET stream); and the official conformance suite's server
// scenarios that apply to a tools-only server (see docs/mcp.md).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";

import { Env, waitFor } from "./harness.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOKEN = "t0k-" + Math.random().toString(36).slice(2);
let env, url, openUrl;

before(async () => {
  env = await new Env().start();
  url = await env.startHttp(TOKEN);
  openUrl = await env.startHttp(null); // loopback, no token: for the conformance suite
  if (process.env.ARUN_TEST_KEEP) console.log(`# token server ${url}, open server ${openUrl}, files in ${env.tmp}`);
});

after(async () => { if (env) await env.stop(); });

async function connect() {
  const c = new Client({ name: "arun-http-mcp-test", version: "1.0.0" });
  const t = new StreamableHTTPClientTransport(new URL(`${url}/mcp`),
    { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } });
  await c.connect(t);
  return { c, t };
}

const H = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
const init = { jsonrpc: "2.0", id: 1, method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };

async function post(body, headers = {}, base = url) {
  return fetch(`${base}/mcp`, { method: "POST", headers: { ...H, Authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body) });
}

describe("/mcp with the SDK client", () => {
  test("tools, a waited run over an event stream with progress, no-wait then get, errors", async () => {
    const { c, t } = await connect();
    assert.ok(t.sessionId, "a session id was given");
    const { tools } = await c.listTools();
    assert.equal(tools.length, 5);
    await c.callTool({ name: "run_analytics_script", arguments: { script: "db_loader" } }, undefined, { timeout: 60000 });
    const seen = [];
    const r = await c.callTool({ name: "run_analytics_script", arguments: { script: "calibration", args: ["--bins", "4"] } },
      undefined, { timeout: 60000, onprogress: (p) => seen.push(p) });
    assert.equal(r.isError, false, JSON.stringify(r.structuredContent));
    assert.equal(r.structuredContent.result.bins.length, 4);
    assert.ok(seen.length >= 1, "the initial progress came on the stream");
    const q = await c.callTool({ name: "run_analytics_script", arguments: { script: "echo", wait: false } });
    const job = await waitFor(async () => {
      const g = await c.callTool({ name: "get_analytics_job", arguments: { id: q.structuredContent.id } });
      return g.structuredContent.status === "success" && g.structuredContent;
    }, 20000, "the job");
    assert.equal(job.trigger, "mcp");
    await assert.rejects(c.callTool({ name: "nope", arguments: {} }), (e) => e instanceof McpError && e.code === -32602);
    await assert.rejects(c.callTool({ name: "get_analytics_job", arguments: {} }), (e) => e instanceof McpError && e.code === -32602);
    await t.terminateSession();
    const after = await post({ jsonrpc: "2.0", id: 9, method: "ping" }, { "Mcp-Session-Id": t.sessionId });
    assert.equal(after.status, 404, "a deleted session is gone");
    await c.close();
  });
});

/** A POST with a Host header of our choosing (fetch does not allow one). */
function postWithHost(base, host, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(`${base}/mcp`);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST",
      headers: { ...H, Host: host } }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

describe("/mcp transport rules", () => {
  test("token, Origin, Host, version header, session header, bad JSON, notifications, GET", async () => {
    assert.equal((await fetch(`${url}/mcp`, { method: "POST", headers: H, body: JSON.stringify(init) })).status, 401);
    assert.equal((await post(init, { Origin: "https://evil.example" })).status, 403);
    assert.equal((await post(init, { Origin: "http://localhost:1234" })).status, 200);
    assert.equal(await postWithHost(openUrl, "evil.example", init), 403);
    assert.equal(await postWithHost(openUrl, "localhost:1", init), 200);
    assert.equal((await post(init, { "MCP-Protocol-Version": "1999-01-01" })).status, 400);
    assert.equal((await post({ jsonrpc: "2.0", id: 2, method: "ping" })).status, 400, "no session id");
    assert.equal((await post({ jsonrpc: "2.0", id: 2, method: "ping" }, { "Mcp-Session-Id": "nope" })).status, 404);
    const r = await post(init);
    assert.equal(r.status, 200);
    const sid = r.headers.get("mcp-session-id");
    assert.match(sid, /^[0-9a-f]{32}$/);
    assert.equal((await r.json()).result.protocolVersion, "2025-11-25");
    const S = { "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25" };
    assert.equal((await post({ jsonrpc: "2.0", method: "notifications/initialized" }, S)).status, 202);
    const bad = await post("{nope", S);
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, -32700);
    const ping = await post({ jsonrpc: "2.0", id: 3, method: "ping" }, S);
    assert.deepEqual(await ping.json(), { jsonrpc: "2.0", id: 3, result: {} });
    const ac = new AbortController();
    const g = await fetch(`${url}/mcp`, { headers: { Accept: "text/event-stream", Authorization: `Bearer ${TOKEN}`, ...S }, signal: ac.signal });
    assert.equal(g.status, 200);
    assert.match(g.headers.get("content-type"), /text\/event-stream/);
    const second = await fetch(`${url}/mcp`, { headers: { Accept: "text/event-stream", Authorization: `Bearer ${TOKEN}`, ...S } });
    assert.equal(second.status, 409);
    // DELETE ends the session and closes its GET stream from the server side
    const del = await fetch(`${url}/mcp`, { method: "DELETE", headers: { Authorization: `Bearer ${TOKEN}`, ...S } });
    assert.equal(del.status, 200);
    await g.text(); // the stream ended
    ac.abort();
  });
});

// The conformance suite needs Node >= 20 (its dependencies); its server
// scenarios that apply to a tools-only server without the suite's own
// reference tools. docs/mcp.md lists the others and why they do not apply.
const SCENARIOS = ["server-initialize", "ping", "tools-list", "server-sse-multiple-streams", "dns-rebinding-protection"];
const major = Number(process.versions.node.split(".")[0]);

describe("MCP conformance suite (server scenarios that apply)", () => {
  for (const sc of SCENARIOS) {
    test(sc, { skip: major < 20 ? `the conformance suite needs Node 20 or later (this is ${process.versions.node})` : false }, () => {
      const out = fs.mkdtempSync(path.join(env.tmp, "conf-"));
      const cli = path.join(HERE, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");
      const u = openUrl.replace("127.0.0.1", "localhost");
      const r = spawnSync(process.execPath, [cli, "server", "--url", `${u}/mcp`, "--scenario", sc, "-o", out],
        { encoding: "utf8", timeout: 60000 });
      const text = r.stdout + r.stderr;
      const m = text.match(/Passed: (\d+)\/(\d+), (\d+) failed/);
      assert.ok(m, `no summary from the suite:\n${text}`);
      assert.equal(m[3], "0", text);
      assert.ok(Number(m[1]) >= 1, text);
    });
  }
});

describe("arun-http at the end", () => {
  test("exits 0 on SIGTERM with MCP sessions open (under ASan: no leaks)", async () => {
    const { c } = await connect();
    await c.listTools();
    for (const p of env.https) { // the second one served the conformance suite
      const done = new Promise((r) => p.once("exit", (code, sig) => r({ code, sig })));
      p.kill("SIGTERM");
      assert.deepEqual(await done, { code: 0, sig: null });
    }
  });
});
