import { describe, expect, it } from "vitest";
import type { BatchReading } from "../../schemas/batch.js";
import { alertPair, uploadAlerts, uploadReadings } from "./fleet-fixtures.js";
import { get, STORE_KINDS, useIngestServer } from "./helpers.js";

const DAY = 86_400_000;
const OCT_1 = Date.UTC(2026, 9, 1);

/** `count` readings a minute apart from `startMs`, ids unique per (device, start). */
function minutely(device: string, startMs: number, count: number): BatchReading[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${device}-${startMs}-${i}`,
    sensor: "gas0",
    gas: "co",
    value: i,
    unit: "ppm",
    ts: new Date(startMs + i * 60_000).toISOString(),
    flags: [],
  }));
}

describe.each(STORE_KINDS)("retention on %s", (kind) => {
  const start = useIngestServer(kind);

  it("prune removes exactly the readings and alerts before a month's start, in chunks, and keeps the rest queryable", async () => {
    const server = await start();
    const device = { id: "pi-r", group: "1", gps: "37.5, 127.0" };
    // August and September (to be removed: 6,000 readings, more than one delete chunk), October and November (kept).
    await uploadReadings(server.url, device, minutely("pi-r", Date.UTC(2026, 7, 10), 3000));
    await uploadReadings(server.url, device, minutely("pi-r", Date.UTC(2026, 8, 10), 3000));
    await uploadReadings(server.url, device, minutely("pi-r", Date.UTC(2026, 9, 10), 1500));
    await uploadReadings(server.url, device, minutely("pi-r", Date.UTC(2026, 10, 10), 500));
    await uploadAlerts(server.url, {
      schema: "sensord.alerts.v1",
      device,
      alerts: [
        ...alertPair("old", "co", Date.UTC(2026, 8, 20), 60_000),
        ...alertPair("new", "co", Date.UTC(2026, 9, 20), null),
      ],
    });
    const removed = await server.store.prune(OCT_1);
    expect(removed).toMatchObject({ readings: 6000, alerts: 2 });
    const csv = await (await fetch(`${server.url}/readings.csv`)).text();
    const rows = csv.trim().split("\n").slice(1);
    expect(rows).toHaveLength(2000);
    expect(rows[0]).toContain(new Date(Date.UTC(2026, 9, 10)).toISOString());
    expect(
      ((await get(server.url, "/alerts")).json as { alerts: Array<{ id: string }> }).alerts.map(
        (a) => a.id,
      ),
    ).toEqual(["new-a"]);
    // The device's newest reading (and its upload's GPS) is still there.
    expect((await get(server.url, "/devices")).json).toMatchObject({
      devices: [{ device: "pi-r", gps: "37.5, 127.0" }],
    });
    // A second pass finds nothing more.
    expect(await server.store.prune(OCT_1)).toMatchObject({ readings: 0, alerts: 0 });
  });

  it("--retention runs at start: readings older than the retention are gone without a request", async () => {
    const first = await start();
    const device = { id: "pi-s", group: "1" };
    await uploadReadings(first.url, device, minutely("pi-s", Date.UTC(2026, 7, 10), 100));
    await uploadReadings(first.url, device, minutely("pi-s", Date.UTC(2026, 10, 10), 100));
    const { dbPath } = first;
    await first.close();
    // Server clock 2026-12-05: 60 days back is 2026-10-06, past the start of October.
    const later = await start({
      reuseDbPath: dbPath,
      retentionMs: 60 * DAY,
      now: () => Date.UTC(2026, 11, 5),
    });
    const deadline = Date.now() + 10_000;
    let count = -1;
    while (count !== 100 && Date.now() < deadline) {
      count = ((await get(later.url, "/readings?limit=1000")).json as { readings: unknown[] })
        .readings.length;
      if (count !== 100) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(count).toBe(100);
  });
});
