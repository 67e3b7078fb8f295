import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Reading } from "../../schemas/reading.js";
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
    await drainer.stop();
    const ingested = await ingestedIds(url);
    expect(ingested.length).toBe(stored.length);
    expect(new Set(ingested)).toEqual(new Set(stored));
  });

  it("crash loop: 20 kill -9s of sensord and 3 of sensord-ingest lose nothing and store nothing twice", {
    timeout: 180_000,
  }, async () => {
    const database = join(dir, "ingest.db");
    let ingest = new IngestProcess(["--listen", "127.0.0.1:0", "--db", database]);
    const url = await ingest.ready();
    const listen = new URL(url).host;
    const config = writeConfig(dir, `${url}/ingest`, SIM);
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
    }
    writeFileSync(join(dir, "empty.ndjson"), "");
    const drainConfig = writeConfig(
      dir,
      `${url}/ingest`,
      '[[sensors]]\nid = "gas0"\ndriver = "replay"\nfile = "empty.ndjson"\n',
    );
    const stored = storedIds(drainConfig);
    const drainer = new DaemonProcess(["--config", drainConfig]);
    const deadline = Date.now() + 30_000;
    while ((await health(url)).readings < stored.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await drainer.stop();
    const ingested = await ingestedIds(url);
    const counts = await health(url);
    expect(stored.length).toBeGreaterThan(1000);
    expect(counts.readings).toBe(stored.length);
    expect(new Set(ingested)).toEqual(new Set(stored));
    expect(ingested.length).toBe(stored.length);
    // Re-sent after crashes and deduplicated by the receiver (reported, not asserted: it depends on timing).
    console.log(
      `crash loop: ${stored.length} readings, ${counts.duplicates} duplicate deliveries deduplicated`,
    );
  });
});
