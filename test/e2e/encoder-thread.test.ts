import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Batch } from "../../schemas/batch.js";
import { type RecordingServer, startRecordingServer } from "../support/http/recording-server.js";
import { DaemonProcess, killAllDaemons, makeTempDir, waitUntil } from "../support/processes.js";

const READINGS = 3000;

/**
 * The built daemon drains a backlog through its encoder thread
 * (daemon/store/encoder-thread.js); an endpoint that refuses batches over 60
 * readings (413) makes the main thread split what the thread encoded.
 */
describe("the encoder thread in the built daemon", () => {
  let dir: string;
  let cleanup: () => void;
  let server: RecordingServer;
  beforeEach(async () => {
    ({ dir, cleanup } = makeTempDir("sensord-encoder-"));
    server = await startRecordingServer();
  });
  afterEach(async () => {
    await killAllDaemons();
    await server.close();
    cleanup();
  });

  it("delivers a backlog once, splitting encoded batches the endpoint refuses as too large", {
    timeout: 60_000,
  }, async () => {
    // 750 lines x 4 gases, replayed at full speed: a backlog piles up between two cycles.
    const lines = Array.from(
      { length: READINGS / 4 },
      (_, i) => `{"co": ${5 + (i % 7)}, "no2": ${40 + (i % 5)}, "c2h5oh": 60, "h2": 400}`,
    );
    writeFileSync(join(dir, "replay.ndjson"), `${lines.join("\n")}\n`);
    const accepted = new Set<string>();
    let duplicates = 0;
    server.respond((request) => {
      // A receiver with uploads only: the daemon's fleet-threshold poll gets what the original gateway answers.
      if (request.method !== "POST") return { status: 404, body: "not found" };
      const batch = JSON.parse(request.decoded.toString()) as Batch;
      if (batch.readings.length > 60) return { status: 413, body: "too large" };
      for (const reading of batch.readings) {
        if (accepted.has(reading.id)) duplicates++;
        accepted.add(reading.id);
      }
      return { status: 200, body: "{}" };
    });
    const config = join(dir, "sensord.toml");
    writeFileSync(
      config,
      `[device]
id = "pi-encoder"
group = "2"

[storage]
path = "sensord.db"
flush_interval = "50ms"

[log]
level = "debug"

[[sensors]]
id = "gas0"
driver = "replay"
interval = "0s"
file = "replay.ndjson"

[sync]
endpoint = "${server.url}/ingest"
alerts_endpoint = ""
interval = "2s"
batch_max_readings = 100
timeout = "2s"
`,
    );
    const daemon = new DaemonProcess(["--config", config]);
    await daemon.waitForLog(/sensord started/);
    await waitUntil(() => accepted.size === READINGS, 30_000, "every reading accepted");
    expect(duplicates).toBe(0);
    expect(daemon.log).toMatch(/read and encoded on the encoder thread/);
    // 30 full batches, each refused and split; the main thread builds at most two
    // of them per cycle (the newest, the first backlog read): the rest came from the thread.
    const splits = daemon.log.match(/refused 100 readings as too large \(413\): splitting/g) ?? [];
    expect(splits.length).toBeGreaterThanOrEqual(25);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});
