import { chmodSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../support/postgres-db.js";
import { makeTempDir, waitUntil } from "../support/processes.js";
import { get, makeBatch, post, readings } from "./helpers.js";
import { IngestProcess, killAllIngest } from "./ingest-process.js";

// Run `npm run build` first: these tests start the built dist/cloud/main.js.

let temp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  temp = makeTempDir("sensord-ingest-proc-");
  return () => temp.cleanup();
});
afterEach(killAllIngest);

let dbCount = 0;
function freshDb(): string {
  dbCount += 1;
  return join(temp.dir, `ingest-${dbCount}.db`);
}

async function started(args: string[]): Promise<{ ingest: IngestProcess; url: string }> {
  const ingest = new IngestProcess(["--listen", "127.0.0.1:0", ...args]);
  return { ingest, url: await ingest.ready() };
}

describe("sensord-ingest process", () => {
  it("prints the bound address first, serves, exits 0 on SIGTERM and keeps its data across restarts", async () => {
    const db = freshDb();
    const first = await started(["--db", db]);
    expect(first.ingest.stdout).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    expect(first.url).not.toBe("http://127.0.0.1:0");
    const answer = await post(first.url, makeBatch("b-1", readings(0, 10)), {
      gzip: true,
      headers: { "idempotency-key": "b-1" },
    });
    expect(answer.json).toEqual({ accepted: 10, duplicates: 0, batchId: "b-1" });
    expect(await first.ingest.stop("SIGTERM")).toEqual({ code: 0, signal: null });

    const second = await started(["--db", db]);
    expect((await get(second.url, "/healthz")).json).toEqual({
      status: "ok",
      store: "sqlite",
      scope: "database",
      readings: 10,
      duplicates: 0,
      batches: 1,
      threshold_reports_malformed: 0,
    });
    const replay = await post(second.url, makeBatch("b-1", readings(0, 10)), {
      headers: { "idempotency-key": "b-1" },
    });
    expect(replay.json).toEqual(answer.json);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await second.ingest.stop("SIGINT")).toEqual({ code: 0, signal: null });
  });

  it("reads the API key from a file and never logs it", async () => {
    const keyFile = join(temp.dir, "api-key");
    writeFileSync(keyFile, "k3y-from-file\n");
    chmodSync(keyFile, 0o600);
    const { ingest, url } = await started([
      "--db",
      freshDb(),
      "--api-key-file",
      keyFile,
      "--log-level",
      "debug",
    ]);
    const batch = makeBatch("b-1", readings(0, 3));
    expect((await post(url, batch)).status).toBe(401);
    expect((await post(url, batch, { headers: { "x-api-key": "wrong" } })).status).toBe(401);
    const right = await post(url, batch, { headers: { "x-api-key": "k3y-from-file" } });
    expect(right.status).toBe(200);
    expect(right.json).toEqual({ accepted: 3, duplicates: 0, batchId: "b-1" });
    expect(await ingest.stop()).toEqual({ code: 0, signal: null });
    expect(ingest.stderr).toContain("api key required");
    expect(ingest.stderr).toContain("POST /ingest 401");
    expect(ingest.stderr).not.toContain("k3y-from-file");
  });

  it("finishes an in-flight request after SIGTERM, then exits 0", async () => {
    const startedAt = Date.now();
    const db = freshDb();
    const { ingest, url } = await started(["--db", db]);
    const body = Buffer.from(JSON.stringify(makeBatch("b-slow", readings(0, 50))));
    const target = new URL(`${url}/ingest`);
    let sendRest = (): void => {};
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const upload = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": body.length },
        },
        (incoming) => {
          let text = "";
          incoming.on("data", (chunk: Buffer) => {
            text += chunk.toString();
          });
          incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, text }));
        },
      );
      upload.on("error", reject);
      upload.write(body.subarray(0, 100));
      sendRest = () => upload.end(body.subarray(100));
    });
    // Let the server receive the headers and the first bytes before the signal.
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    process.kill(ingest.pid, "SIGTERM");
    await waitUntil(() => ingest.stderr.includes("SIGTERM: finishing in-flight requests"), 10_000);
    expect(ingest.running).toBe(true);
    // Stopped accepting: a new connection is refused while the old request is still open.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    sendRest();
    const answer = await response;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ accepted: 50, duplicates: 0, batchId: "b-slow" });
    expect(await ingest.exited).toEqual({ code: 0, signal: null });
    const check = new Database(db, { readonly: true });
    const stored = check.prepare<[], { n: number }>("SELECT count(*) AS n FROM readings").get();
    // readings_wide joins the normalised tables back into one row per reading.
    const wide = check
      .prepare<[string | undefined], Record<string, unknown>>(
        "SELECT * FROM readings_wide WHERE id = ?",
      )
      .get(readings(0, 1)[0]?.id);
    check.close();
    expect(stored?.n).toBe(50);
    expect(wide).toMatchObject({
      device: "pi-1",
      group_id: "2",
      gps: "37.61, 126.99",
      sensor: "gas0",
      gas: "co",
      unit: "ppm",
      ts: Date.parse(readings(0, 1)[0]?.ts ?? ""),
      flags: "",
      sensor_id: "",
      sensor_type: "",
      batch_id: "b-slow",
      index_name: null,
    });
    // Stamped by the server while this test ran.
    const receivedAt = Number(wide?.received_at);
    expect(receivedAt).toBeGreaterThanOrEqual(startedAt);
    expect(receivedAt).toBeLessThanOrEqual(Date.now());
  });

  it("serves the hosts named by repeated --allowed-host, and 421 to others", async () => {
    const { ingest, url } = await started([
      "--db",
      freshDb(),
      "--allowed-host",
      "a.lab.example",
      "--allowed-host",
      "b.lab.example",
    ]);
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const target = new URL(`${url}/devices`);
        request(
          { host: target.hostname, port: target.port, path: target.pathname, headers: { host } },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        )
          .on("error", reject)
          .end();
      });
    expect(await status("a.lab.example:8787")).toBe(200);
    expect(await status("b.lab.example")).toBe(200);
    expect(await status("c.lab.example")).toBe(421);
    expect(await ingest.stop()).toEqual({ code: 0, signal: null });
  });

  it("applies --max-body", async () => {
    const { ingest, url } = await started(["--db", freshDb(), "--max-body", "1KiB"]);
    const result = await post(url, makeBatch("b-1", readings(0, 20)));
    expect(result.status).toBe(413);
    expect(result.json).toMatchObject({ limit: 1024 });
    expect(await ingest.stop()).toEqual({ code: 0, signal: null });
  });

  it.each([
    [["--listen", "8787"], /--listen.*HOST:PORT/],
    [["--max-body", "lots"], /--max-body/],
    [["--log-level", "loud"], /--log-level/],
    [["--frobnicate"], /unknown option/],
    [["--retention", "forever"], /--retention.*"forever".*e\.g\. "400d"/],
    [["--retention", "12h"], /at least 1d/],
    [
      ["--max-body", "8MiB", "--max-inflight-bytes", "1MiB"],
      /--max-inflight-bytes \(1MiB\) must be at least --max-body \(8MiB\)/,
    ],
  ])("exits 2 on a usage error: %j", async (args, message) => {
    const ingest = new IngestProcess([...args, "--db", freshDb()]);
    expect(await ingest.exited).toEqual({ code: 2, signal: null });
    expect(ingest.stderr).toMatch(message);
  });

  it("exits 78 for a missing or empty key file, naming it", async () => {
    const missing = new IngestProcess(["--db", freshDb(), "--api-key-file", "/nonexistent/key"]);
    expect(await missing.exited).toEqual({ code: 78, signal: null });
    expect(missing.stderr).toContain("/nonexistent/key");
    const emptyFile = join(temp.dir, "empty-key");
    writeFileSync(emptyFile, "\n");
    const empty = new IngestProcess(["--db", freshDb(), "--api-key-file", emptyFile]);
    expect(await empty.exited).toEqual({ code: 78, signal: null });
    expect(empty.stderr).toContain("is empty");
  });

  it("exits 1 when the port is taken or the database belongs to something else", async () => {
    const { ingest, url } = await started(["--db", freshDb()]);
    const port = new URL(url).port;
    const clash = new IngestProcess(["--listen", `127.0.0.1:${port}`, "--db", freshDb()]);
    expect(await clash.exited).toEqual({ code: 1, signal: null });
    expect(clash.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+.*EADDRINUSE/);
    await ingest.stop();

    const foreign = freshDb();
    const other = new Database(foreign);
    other.exec("CREATE TABLE readings (seq INTEGER PRIMARY KEY)");
    other.close();
    const refused = new IngestProcess(["--listen", "127.0.0.1:0", "--db", foreign]);
    expect(await refused.exited).toEqual({ code: 1, signal: null });
    expect(refused.stderr).toContain("is not a sensord-ingest database");
  });

  it("refuses a password in the --db URL (exit 2, without echoing it) and reads --db-password-file", async () => {
    const inUrl = new IngestProcess(["--db", "postgres://ingest:s3cret-pw@127.0.0.1:1/fleet"]);
    expect(await inUrl.exited).toEqual({ code: 2, signal: null });
    expect(inUrl.stderr).toContain("PGPASSWORD, ~/.pgpass or --db-password-file");
    expect(inUrl.stderr).not.toContain("s3cret-pw");
    const missing = new IngestProcess([
      "--db",
      "postgres://ingest@127.0.0.1:1/fleet",
      "--db-password-file",
      "/nonexistent/pw",
    ]);
    expect(await missing.exited).toEqual({ code: 78, signal: null });
    expect(missing.stderr).toContain("--db-password-file: cannot read /nonexistent/pw");
  });
});

describe("sensord-ingest on PostgreSQL", () => {
  it("connects with the password from --db-password-file, never shows it, and logs the URL without it", async () => {
    const database = await createTestDatabase("proc");
    const passwordFile = join(temp.dir, "db-password");
    writeFileSync(passwordFile, `${database.password}\n`, { mode: 0o600 });
    const ingest = new IngestProcess([
      "--listen",
      "127.0.0.1:0",
      "--db",
      database.url,
      "--db-password-file",
      passwordFile,
      "--retention",
      "400d",
    ]);
    const url = await ingest.ready();
    expect((await post(url, makeBatch("b-1", readings(0, 4)))).json).toMatchObject({ accepted: 4 });
    expect((await get(url, "/healthz")).json).toEqual({
      status: "ok",
      store: "postgres",
      scope: "process",
      readings: 4,
      duplicates: 0,
      batches: 1,
      threshold_reports_malformed: 0,
    });
    expect(await ingest.stop()).toEqual({ code: 0, signal: null });
    expect(ingest.stderr).toContain(`postgres database ${database.url}`);
    expect(ingest.stderr).toContain("retention 400d");
    expect(ingest.stdout + ingest.stderr).not.toContain(database.password);
  });

  it("exits 1 with the fix named when the password is wrong, without showing any password", async () => {
    const database = await createTestDatabase("proc");
    const ingest = new IngestProcess(["--listen", "127.0.0.1:0", "--db", database.url], {
      env: { PGPASSWORD: "not-the-password" },
    });
    expect(await ingest.exited).toEqual({ code: 1, signal: null });
    expect(ingest.stderr).toMatch(/PGPASSWORD|--db-password-file/);
    expect(ingest.stderr).not.toContain("not-the-password");
    expect(ingest.stderr).not.toContain(database.password);
  });
});
