// arun-mcp over stdio, driven by the official MCP TypeScript SDK client
// (Client + StdioClientTransport) against a real redis-server, a real
// arun-worker and SQLite; plus raw-line cases the SDK cannot send (a line
// that is not JSON, an over-long line, an old protocol revision), a clean
// exit on end of input and on SIGTERM, and nothing but JSON on stdout.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import Ajv2020 from "ajv/dist/2020.js";

import { Env, MCP, waitFor, workerCancels } from "./harness.mjs";

let env;
let client;

async function connect(extraEnv = {}) {
  const c = new Client({ name: "arun-mcp-test", version: "1.0.0" });
  const t = new StdioClientTransport({ command: MCP, env: env.env(extraEnv), stderr: "pipe" });
  await c.connect(t);
  return c;
}

async function call(name, args, opts) {
  return client.callTool({ name, arguments: args }, undefined, opts);
}

async function waitFinal(id) {
  return waitFor(async () => {
    const r = await call("get_analytics_job", { id });
    const s = r.structuredContent.status;
    return s !== "queued" && s !== "running" ? r.structuredContent : null;
  }, 30000, `job ${id} to end`);
}

before(async () => {
  env = await new Env().start();
  client = await connect({ ARUN_MCP_PROGRESS_INTERVAL: "200ms" });
});

after(async () => {
  if (client) await client.close();
  if (env) await env.stop();
});

describe("arun-mcp with the SDK client", () => {
  test("negotiates the latest revision and lists five tools with valid schemas", async () => {
    assert.equal(client.getServerVersion().name, "arun");
    assert.ok(client.getServerCapabilities().tools);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ["cancel_analytics_job", "get_analytics_job",
      "list_analytics_jobs", "list_analytics_scripts", "run_analytics_script"]);
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    for (const t of tools) {
      assert.equal(t.inputSchema.type, "object", t.name);
      ajv.compile(t.inputSchema);   // throws when not a valid 2020-12 schema
      ajv.compile(t.outputSchema);
    }
  });

  test("lists the scripts", async () => {
    const r = await call("list_analytics_scripts", {});
    assert.equal(r.isError, false);
    assert.ok(r.structuredContent.scripts.includes("calibration"));
    assert.ok(r.structuredContent.scripts.includes("sleepy"));
    assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent);
  });

  test("runs real analytics with wait and reads the parsed result", async () => {
    const load = await call("run_analytics_script", { script: "db_loader" }, { timeout: 60000 });
    assert.equal(load.isError, false, JSON.stringify(load.structuredContent));
    const r = await call("run_analytics_script", { script: "calibration", args: ["--bins", "5"] }, { timeout: 60000 });
    const job = r.structuredContent;
    assert.equal(r.isError, false, JSON.stringify(job));
    assert.equal(job.status, "success");
    assert.equal(job.exit_code, 0);
    assert.equal(job.trigger, "mcp");
    assert.equal(job.result.script, "calibration");
    assert.equal(job.result.bins.length, 5);
    assert.deepEqual(JSON.parse(r.content[0].text), job);
  });

  test("a failing script is an error result, with its stderr", async () => {
    const r = await call("run_analytics_script", { script: "echo", args: ["--exit", "3"] });
    assert.equal(r.isError, true);
    assert.equal(r.structuredContent.status, "error");
    assert.equal(r.structuredContent.exit_code, 3);
    assert.match(r.structuredContent.stderr, /to stderr/);
  });

  test("runs without waiting, then gets the job; lists it", async () => {
    const r = await call("run_analytics_script", { script: "echo.py", args: ["a b", "--x"], wait: false });
    assert.equal(r.isError, false);
    assert.equal(r.structuredContent.status, "queued");
    const job = await waitFinal(r.structuredContent.id);
    assert.equal(job.status, "success");
    assert.deepEqual(job.result.argv, ["a b", "--x"]);
    const list = await call("list_analytics_jobs", { limit: 50, script: "echo", status: "success,error" });
    const row = list.structuredContent.jobs.find((j) => j.id === job.id);
    assert.ok(row, "the job is listed");
    assert.equal(row.stdout, undefined, "lists carry no output");
    const unknown = await call("get_analytics_job", { id: "no-such-job" });
    assert.equal(unknown.isError, true);
    assert.equal(unknown.structuredContent.code, "not_found");
  });

  test("an unknown script is a tool error, not a push", async () => {
    const r = await call("run_analytics_script", { script: "../etc/passwd" });
    assert.equal(r.isError, true);
    assert.equal(r.structuredContent.code, "unknown_script");
    const r2 = await call("run_analytics_script", { script: "nope" });
    assert.equal(r2.structuredContent.code, "unknown_script");
  });

  test("sends progress while it waits, and stops waiting when told (the job goes on)", async () => {
    const seen = [];
    const r = await call("run_analytics_script", { script: "sleepy", args: ["1.5"] },
      { onprogress: (p) => seen.push(p), resetTimeoutOnProgress: true });
    assert.equal(r.structuredContent.status, "success");
    assert.ok(seen.length >= 2, `progress notifications: ${seen.length}`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i].progress > seen[i - 1].progress);

    const ac = new AbortController();
    const pending = call("run_analytics_script", { script: "sleepy", args: ["1"] },
      { signal: ac.signal, onprogress: () => ac.abort("enough") });
    await assert.rejects(pending);
    const list = await call("list_analytics_jobs", { script: "sleepy", limit: 1 });
    const id = list.structuredContent.jobs[0]?.id;
    assert.ok(id, "the job was pushed");
    const job = await waitFinal(id);
    assert.equal(job.status, "success", "a cancelled wait leaves the job alone");
  });

  test("a wait that ends first returns the job as it stands", async () => {
    const r = await call("run_analytics_script", { script: "sleepy", args: ["2"], wait_timeout_ms: 300 });
    assert.equal(r.isError, true);
    assert.ok(["queued", "running"].includes(r.structuredContent.status));
    assert.match(r.structuredContent.message, /goes on/);
    assert.equal((await waitFinal(r.structuredContent.id)).status, "success");
  });

  test("cancel: a finished job keeps its status; a sleeper ends cancelled", async (t) => {
    const done = await call("run_analytics_script", { script: "echo" });
    const c1 = await call("cancel_analytics_job", { id: done.structuredContent.id });
    assert.deepEqual(c1.structuredContent, { id: done.structuredContent.id, status: "success" });
    const missing = await call("cancel_analytics_job", { id: "nobody" });
    assert.equal(missing.isError, true);
    if (!workerCancels()) {
      t.skip("this worker build does not handle cancels yet (worker/ has no keys_cancel)");
      return;
    }
    const r = await call("run_analytics_script", { script: "sleepy", args: ["30"], wait: false });
    const id = r.structuredContent.id;
    await waitFor(async () => (await call("get_analytics_job", { id })).structuredContent.status === "running", 10000, "the sleeper to run");
    const c = await call("cancel_analytics_job", { id });
    assert.equal(c.structuredContent.status, "cancelling");
    assert.equal((await waitFinal(id)).status, "cancelled");
  });

  test("bad arguments and unknown tools are -32602", async () => {
    for (const [name, args] of [["run_analytics_script", {}], ["run_analytics_script", { script: 1 }],
      ["run_analytics_script", { script: "echo", args: [1] }], ["run_analytics_script", { script: "echo", timeout_ms: 0 }],
      ["run_analytics_script", { script: "echo", extra: true }], ["get_analytics_job", { id: "a/b" }],
      ["list_analytics_jobs", { limit: 501 }], ["list_analytics_jobs", { status: "Error" }], ["no_such_tool", {}]]) {
      await assert.rejects(call(name, args), (e) => e instanceof McpError && e.code === -32602, `${name} ${JSON.stringify(args)}`);
    }
  });
});

/** arun-mcp as a bare child: lines in, lines out. */
function raw(extraEnv = {}) {
  const p = spawn(MCP, [], { env: env.env(extraEnv), stdio: ["pipe", "pipe", "pipe"] });
  let buf = "";
  const lines = [];
  p.stdout.on("data", (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1); }
  });
  p.stderr.resume();
  const exited = new Promise((r) => p.once("exit", (code, sig) => r({ code, sig })));
  return { p, lines, exited, send: (s) => p.stdin.write(s + "\n"), trailing: () => buf };
}

const init = (v) => JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize",
  params: { protocolVersion: v, capabilities: {}, clientInfo: { name: "raw", version: "1" } } });

describe("arun-mcp on raw lines", () => {
  test("not JSON is -32700, over-long is refused, a 2025-03-26 client and its batch answered, stdout only JSON, EOF exits 0", async () => {
    const s = raw({ ARUN_MCP_MAX_LINE: "2048" });
    s.send(init("2025-03-26"));
    s.send("this is not json");
    s.send('{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"pad":"' + "x".repeat(100000) + '"}}');
    s.send('{"jsonrpc":"2.0","id":3,"method":"ping"}');
    s.send('{"jsonrpc":"2.0","id":4,"method":"resources/list"}');
    await waitFor(() => s.lines.length >= 5, 10000, "five answers");
    const msgs = s.lines.map((l) => JSON.parse(l));
    assert.equal(msgs[0].result.protocolVersion, "2025-03-26");
    assert.equal(msgs[1].error.code, -32700);
    assert.equal(msgs[1].id, null);
    assert.equal(msgs[2].error.code, -32600);
    assert.match(msgs[2].error.message, /longer than 2048/);
    assert.deepEqual(msgs[3], { jsonrpc: "2.0", id: 3, result: {} });
    assert.equal(msgs[4].error.code, -32601);
    // a 2025-03-26 client may send a batch: one array answers it
    s.send('[{"jsonrpc":"2.0","id":5,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":6,"method":"nope"}]');
    await waitFor(() => s.lines.length >= 6, 10000, "the batch's answer");
    const batch = JSON.parse(s.lines[5]);
    assert.deepEqual(batch.map((m) => m.id), [5, 6]);
    assert.equal(batch[1].error.code, -32601);
    s.p.stdin.end();
    assert.deepEqual(await s.exited, { code: 0, sig: null });
    assert.equal(s.trailing(), "");
  });

  test("exits 0 on SIGTERM while a call waits", async () => {
    const s = raw();
    s.send(init("2025-06-18"));
    s.send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "run_analytics_script", arguments: { script: "sleepy", args: ["5"] } } }));
    await waitFor(() => s.lines.length >= 1, 10000, "initialize");
    await new Promise((r) => setTimeout(r, 200));
    s.p.kill("SIGTERM");
    assert.deepEqual(await s.exited, { code: 0, sig: null });
    for (const l of s.lines) JSON.parse(l);
  });

  test("--help and a bad flag", async () => {
    const { spawnSync } = await import("node:child_process");
    const h = spawnSync(MCP, ["--help"]);
    assert.equal(h.status, 0);
    assert.match(h.stdout.toString(), /usage: arun-mcp/);
    const b = spawnSync(MCP, ["--nope"]);
    assert.equal(b.status, 2);
    assert.equal(b.stdout.length, 0);
  });
});
