import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteSyncQueue } from "../../daemon/store/sync-queue.js";
import type { Reading } from "../../schemas/reading.js";
import { READINGS_OUTPUT } from "../../sync/output/names.js";
import { IngestProcess, killAllIngest } from "../cloud/ingest-process.js";
import { type FaultProxy, startFaultProxy } from "../support/http/fault-proxy.js";
import {
  DaemonProcess,
  jsonLines,
  killAllDaemons,
  makeTempDir,
  sensorctl,
  waitUntil,
} from "../support/processes.js";

interface Health {
  readings: number;
  duplicates: number;
  batches: number;
}

async function health(url: string): Promise<Health> {
  const response = await fetch(`${url}/healthz`);
  return (await response.json()) as Health;
}

async function ingestedIds(url: string): Promise<string[]> {
  const response = await fetch(`${url}/readings?device=pi-e2e&limit=100000`);
  const body = (await response.json()) as { readings: Reading[] };
  return body.readings.map((reading) => reading.id);
}

function storedIds(config: string): string[] {
  const result = sensorctl([
    "--config",
    config,
    "readings",
    "--format",
    "json",
    "--limit",
    "10000000",
  ]);
  return jsonLines<Reading>(result.stdout).map((reading) => reading.id);
}

/** What the device database still has to upload (`sensorctl status --json` works with sensord stopped). */
function pendingCount(config: string): number {
  const result = sensorctl(["--config", config, "status", "--json"]);
  const status = JSON.parse(result.stdout) as { sync: { pending: number } };
  return status.sync.pending;
}

/** Every request the proxy forwarded upstream has its answer (or failed): nothing in flight. */
function quiet(proxy: FaultProxy | null): boolean {
  if (proxy === null) return true;
  const forwarded = proxy.requests.filter((request) => request.fault === "pass").length;
  return forwarded === (proxy.counts.pass ?? 0) + (proxy.counts["upstream-error"] ?? 0);
}

/**
 * Readings in the device database, and how many are not marked uploaded, read
 * in-process (read-only) after a kill: a sensorctl per round would add ~10 s.
 */
function uploadState(file: string): { stored: number; pending: number } {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM readings").get();
    return {
      stored: row?.n ?? 0,
      pending: new SqliteSyncQueue(db, "", file, READINGS_OUTPUT).stats().pending,
    };
  } finally {
    db.close();
  }
}

/**
 * Requests in flight at once (sync/worker.ts PIPELINE_DEPTH) times
 * batch_max_readings: what one crash (of either side) can leave accepted by
 * the ingest but not marked uploaded by sensord, and so re-sent.
 */
const RESENT_PER_CRASH = 3 * 100;

function writeConfig(dir: string, endpoint: string, sensors: string): string {
  const file = join(dir, "sensord.toml");
  writeFileSync(
    file,
    `[device]
id = "pi-e2e"
group = "2"

[storage]
path = "sensord.db"
flush_interval = "50ms"

[log]
level = "debug"

${sensors}

[sync]
endpoint = "${endpoint}"
interval = "200ms"
batch_max_readings = 100
timeout = "2s"
`,
  );
  return file;
}

const SIM = '[[sensors]]\nid = "gas0"\ndriver = "sim"\ninterval = "10ms"\n';

describe("sync end to end: sensord -> sensord-ingest", () => {
  let dir: string;
  let cleanup: () => void;
  let proxy: FaultProxy | null = null;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir("sensord-sync-"));
  });
  afterEach(async () => {
    await killAllDaemons();
    await killAllIngest();
    await proxy?.close();
    proxy = null;
    cleanup();
  });

  it("keeps everything through an outage and delivers it all, once, when the endpoint returns", {
    timeout: 60_000,
  }, async () => {
    const ingest = new IngestProcess(["--listen", "127.0.0.1:0", "--db", join(dir, "ingest.db")]);
    const url = await ingest.ready();
    proxy = await startFaultProxy(`${url}/ingest`);
    await proxy.refuse();
    const config = writeConfig(dir, proxy.url, SIM);
    const daemon = new DaemonProcess(["--config", config]);
    await daemon.waitForLog(/sensord started/);
    await waitUntil(() => storedIds(config).length >= 400, 10_000, "a backlog to pile up");
    expect((await health(url)).readings).toBe(0);
    expect(daemon.log.match(/upload failed/g)).toHaveLength(1);

    await proxy.reopen();
    await daemon.waitForLog(/uploads work again/, 15_000);
    // The backlog (a full first read) went through the encoder thread of the built daemon.
    expect(daemon.log).toMatch(/read and encoded on the encoder thread/);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    // The stop aborts a request in flight (if any): the ingest may have stored
    // it without sensord seeing the answer. Wait until every request the proxy
    // forwarded was answered upstream, then count what the ingest holds beyond
    // what sensord marked uploaded: exactly those readings may come again.
    await waitUntil(() => quiet(proxy), 10_000, "every forwarded request to be answered");
    const marked = storedIds(config).length - pendingCount(config);
    const unacknowledged = (await health(url)).readings - marked;
    expect(unacknowledged).toBeGreaterThanOrEqual(0);
    expect(unacknowledged).toBeLessThanOrEqual(RESENT_PER_CRASH);

    // After the stop nothing new is produced: drain what is left with a daemon that has no live sensor.
    writeFileSync(join(dir, "empty.ndjson"), "");
    const drainConfig = writeConfig(
      dir,
      proxy.url,
      '[[sensors]]\nid = "gas0"\ndriver = "replay"\nfile = "empty.ndjson"\n',
    );
    const drainer = new DaemonProcess(["--config", drainConfig]);
    const stored = storedIds(drainConfig);
    const deadline = Date.now() + 20_000;
    while ((await health(url)).readings < stored.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The unacknowledged readings may still be on their way (the ingest has
    // them already): wait until the drainer has marked everything uploaded.
    await waitUntil(() => pendingCount(drainConfig) === 0, 10_000, "nothing left to upload");
    await drainer.stop();
    const ingested = await ingestedIds(url);
    expect(ingested.length).toBe(stored.length);
    expect(new Set(ingested)).toEqual(new Set(stored));
    // Once: the ingest dedupes by id, so the set above cannot show a reading
    // sent twice; its duplicate count can. Refused connections never reach the
    // ingest, so the only re-sends are the unanswered readings of the stop
    // (usually none).
    expect((await health(url)).duplicates).toBe(unacknowledged);
  });

  it("crash loop: 20 kill -9s of sensord and 3 of sensord-ingest lose nothing and store nothing twice", {
    timeout: 180_000,
  }, async () => {
    const database = join(dir, "ingest.db");
    let ingest = new IngestProcess(["--listen", "127.0.0.1:0", "--db", database]);
    const url = await ingest.ready();
    const listen = new URL(url).host;
    // A proxy that only passes: it knows when every request it forwarded has
    // been answered, so the books below are taken when nothing is in flight.
    const relay = await startFaultProxy(`${url}/ingest`);
    proxy = relay;
    const config = writeConfig(dir, relay.url, SIM);
    const deviceDb = join(dir, "sensord.db");
    // Readings the ingest stored but sensord never saw accepted, at each quiet point.
    const unanswered: number[] = [];
    const takeBooks = async (): Promise<void> => {
      await waitUntil(() => quiet(relay), 10_000, "every forwarded request to be answered");
      const { stored, pending } = uploadState(deviceDb);
      const pendingButStored = (await health(url)).readings - (stored - pending);
      // One crash leaves at most one pipeline of requests unanswered.
      expect(pendingButStored).toBeGreaterThanOrEqual(0);
      expect(pendingButStored).toBeLessThanOrEqual(RESENT_PER_CRASH);
      unanswered.push(pendingButStored);
    };
    for (let round = 0; round < 20; round++) {
      const daemon = new DaemonProcess(["--config", config]);
      await daemon.waitForLog(/sensord started/);
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 600));
      daemon.signal("SIGKILL");
      await daemon.exited;
      if (round % 7 === 3) {
        // The receiver dies too, possibly between committing a batch and answering it.
        ingest.child.kill("SIGKILL");
        await ingest.exited;
        ingest = new IngestProcess(["--listen", listen, "--db", database]);
        await ingest.ready();
      }
      await takeBooks();
    }
    writeFileSync(join(dir, "empty.ndjson"), "");
    const drainConfig = writeConfig(
      dir,
      relay.url,
      '[[sensors]]\nid = "gas0"\ndriver = "replay"\nfile = "empty.ndjson"\n',
    );
    const stored = storedIds(drainConfig);
    const drainer = new DaemonProcess(["--config", drainConfig]);
    const deadline = Date.now() + 30_000;
    while ((await health(url)).readings < stored.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The readings the ingest already had are re-sent too: wait for all of them.
    await waitUntil(() => pendingCount(drainConfig) === 0, 10_000, "nothing left to upload");
    await drainer.stop();
    const ingested = await ingestedIds(url);
    const counts = await health(url);
    expect(stored.length).toBeGreaterThan(1000);
    expect(counts.readings).toBe(stored.length);
    expect(new Set(ingested)).toEqual(new Set(stored));
    expect(ingested.length).toBe(stored.length);
    // Nothing fails within a round, so a run sends each pending reading at
    // most once: the readings re-sent (deduplicated by the receiver) are at
    // most those left unanswered by the crashes, and at least those the
    // drainer found unanswered (it sends everything pending).
    const bound = unanswered.reduce((sum, n) => sum + n, 0);
    console.log(
      `crash loop: ${stored.length} readings, ${counts.duplicates} duplicate deliveries deduplicated ` +
        `(crashes left ${bound} unanswered)`,
    );
    expect(counts.duplicates).toBeGreaterThanOrEqual(unanswered.at(-1) ?? 0);
    expect(counts.duplicates).toBeLessThanOrEqual(bound);
  });
});
