import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import type { Batch } from "../../schemas/batch.js";
import { createTestDatabase } from "../support/postgres-db.js";
import { deviceReadings } from "./fleet-fixtures.js";
import { IngestProcess, killAllIngest } from "./ingest-process.js";

afterEach(killAllIngest);

const DEVICES = 24;
const BATCHES_PER_DEVICE = 25;
const IN_FLIGHT = 12;
const T0 = Date.now() - 3 * 3_600_000;

interface Upload {
  key: string;
  body: Buffer;
  readings: number;
}

/** One minute of one device per batch (4 gases x 60 s), as sensord sends them, gzip'd. */
function uploads(): Upload[] {
  const out: Upload[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const device = `pi-${d}`;
    const readings = deviceReadings(
      device,
      ["co", "no2", "c2h5oh", "h2"],
      T0,
      1000,
      60 * BATCHES_PER_DEVICE,
      d,
    );
    for (let b = 0; b < BATCHES_PER_DEVICE; b++) {
      const slice = readings.slice(b * 240, (b + 1) * 240);
      const batch: Batch = {
        schema: "sensord.batch.v1",
        device: { id: device, group: String(d % 3) },
        batchId: `${device}-b${b}`,
        readings: slice,
      };
      out.push({
        key: batch.batchId,
        body: gzipSync(JSON.stringify(batch)),
        readings: slice.length,
      });
    }
  }
  // Interleave the devices, as a fleet's uploads arrive.
  return out.sort(
    (x, y) =>
      Number(x.key.split("-b")[1]) - Number(y.key.split("-b")[1]) || x.key.localeCompare(y.key),
  );
}

describe("several sensord-ingest processes on one PostgreSQL database", () => {
  it("stores every reading exactly once while one of two processes is killed with kill -9 mid-load", async () => {
    const database = await createTestDatabase("multi");
    const env = { PGPASSWORD: database.password };
    const args = ["--listen", "127.0.0.1:0", "--db", database.url, "--log-level", "warn"];
    const a = new IngestProcess(args, { env });
    const b = new IngestProcess(args, { env });
    const urls = [await a.ready(), await b.ready()];
    const work = uploads();
    const total = work.reduce((sum, upload) => sum + upload.readings, 0);
    let next = 0;
    let answered = 0;
    let retried = 0;
    let accepted = 0;
    let killed = false;
    // A device behind a load balancer: its upload goes to one process; a
    // failed one is retried, with the same idempotency key, on the other.
    const post = async (upload: Upload, target: number): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        const url = urls[(target + attempt) % urls.length];
        try {
          const response = await fetch(`${url}/ingest`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "content-encoding": "gzip",
              "idempotency-key": upload.key,
            },
            body: upload.body,
          });
          const answer = (await response.json()) as { accepted: number };
          if (response.status === 200) {
            if (response.headers.get("idempotent-replayed") === null) accepted += answer.accepted;
            return;
          }
          throw new Error(`status ${response.status}`);
        } catch (error) {
          if (attempt > 5) throw error;
          retried++;
        }
      }
    };
    const worker = async (): Promise<void> => {
      for (;;) {
        const index = next++;
        const upload = work[index];
        if (upload === undefined) return;
        await post(upload, index % 2);
        answered++;
        if (!killed && answered >= work.length / 3) {
          killed = true;
          // Mid-load: requests are in flight on both processes.
          process.kill(a.pid, "SIGKILL");
          urls[0] = "http://127.0.0.1:1";
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker()));
    expect((await a.exited).signal).toBe("SIGKILL");
    expect(retried).toBeGreaterThan(0);

    const [stored] = await database.query<{ rows: string; distinct: string }>(
      "SELECT count(*) AS rows, count(DISTINCT id) AS distinct FROM readings",
    );
    expect(stored).toEqual({ rows: String(total), distinct: String(total) });
    const [keys] = await database.query<{ n: string; distinct: string }>(
      "SELECT count(*) AS n, count(DISTINCT key) AS distinct FROM batches",
    );
    // One record per processed request; never one key processed twice.
    expect(Number(keys?.n)).toBe(Number(keys?.distinct));
    // Every reading was counted as accepted once, by whichever process stored it, unless
    // the killed process committed it and died before answering (then B replayed the answer).
    expect(accepted).toBeLessThanOrEqual(total);
    expect(b.running).toBe(true);
    expect((await b.stop()).code).toBe(0);
  });
});
