import { statSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../cloud/store/sqlite/index.js";
import type { CloudStore, IngestRow } from "../../cloud/store/types.js";
import { makeTempDir } from "../support/processes.js";

const temp = makeTempDir("sensord-checkpoint-");
const stores: CloudStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function rows(count: number): IngestRow[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `ckpt-${i}`,
    sensor: "gas0",
    gas: "co",
    value: i / 7,
    unit: "ppm",
    ts: Date.UTC(2026, 10, 1) + i * 1000,
    flags: "",
    sensorId: "",
    sensorType: "",
  }));
}

describe("SQLite store: WAL checkpoints on their own thread", () => {
  it("moves committed readings from the WAL into the database file within seconds, with no checkpoint in the commits", async () => {
    const file = `${temp.dir}/ingest.db`;
    const store = openSqliteStore(file);
    stores.push(store);
    const before = statSync(file).size;
    const outcome = await store.ingest(
      {
        format: "batch",
        batchId: "b",
        device: "pi",
        group: "1",
        gps: "",
        indexName: null,
        rows: rows(20_000),
      },
      "k",
      Date.now(),
    );
    expect(outcome).toMatchObject({ accepted: 20_000, duplicates: 0 });
    // The writer never checkpoints (wal_autocheckpoint = 0): the file is as it was, the readings are in the WAL.
    expect(statSync(file).size).toBe(before);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(500_000);
    const deadline = Date.now() + 5000;
    while (statSync(file).size === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(statSync(file).size).toBeGreaterThan(before + 500_000);
    await store.close();
    // The last connection to close removes the WAL.
    expect(() => statSync(`${file}-wal`)).toThrow();
  });
});
