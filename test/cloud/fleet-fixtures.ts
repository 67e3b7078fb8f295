import { gzipSync } from "node:zlib";
import { seededRandom } from "../../daemon/drivers/sim.js";
import type { AlertBatch } from "../../schemas/alert-batch.js";
import type { Batch, BatchReading } from "../../schemas/batch.js";

export interface FleetDevice {
  id: string;
  group: string;
  gps?: string;
}

/**
 * `count` readings per gas for a device, one every `stepMs` from `startMs`,
 * values from a seeded PRNG (some repeated, some negative, some with many
 * decimals) so min/max/avg are checked on awkward numbers.
 */
export function deviceReadings(
  device: string,
  gases: string[],
  startMs: number,
  stepMs: number,
  count: number,
  seed: number,
): BatchReading[] {
  const random = seededRandom(seed);
  const out: BatchReading[] = [];
  for (let i = 0; i < count; i++) {
    for (const gas of gases) {
      const roll = random();
      const value =
        roll < 0.1 ? 42 : roll < 0.15 ? -random() * 3 : Math.round(random() * 1e6) / 997;
      out.push({
        id: `${device}-r${i.toString(36)}-${gas}`,
        sensor: "gas0",
        gas: gas as BatchReading["gas"],
        value,
        unit: gas === "no2" ? "ppb" : "ppm",
        ts: new Date(startMs + i * stepMs).toISOString(),
        flags: i % 97 === 5 ? ["warmup"] : [],
      });
    }
  }
  return out;
}

/** POSTs readings to a running ingest as gzip'd sensord.batch.v1 batches of 1000, as sensord does. */
export async function uploadReadings(
  baseUrl: string,
  device: FleetDevice,
  readings: BatchReading[],
): Promise<void> {
  for (let at = 0; at < readings.length; at += 1000) {
    const slice = readings.slice(at, at + 1000);
    const batch: Batch = {
      schema: "sensord.batch.v1",
      device,
      batchId: `${device.id}-${slice[0]?.id}-${slice.length}`,
      readings: slice,
    };
    const response = await fetch(`${baseUrl}/ingest`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: gzipSync(JSON.stringify(batch)),
    });
    if (response.status !== 200) {
      throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
    }
  }
}

export async function uploadAlerts(baseUrl: string, batch: AlertBatch): Promise<unknown> {
  const response = await fetch(`${baseUrl}/ingest/alerts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(batch),
  });
  return { status: response.status, json: await response.json() };
}

/** A raise and, when `clearAfterMs` is given, its clear, as sensord commits them. */
export function alertPair(
  id: string,
  gas: AlertBatch["alerts"][number]["gas"],
  raiseMs: number,
  clearAfterMs: number | null,
  threshold = 35,
): AlertBatch["alerts"] {
  const base = {
    rule: `${gas}>=${threshold}ppm:warning`,
    sensor: "gas0",
    gas,
    unit: "ppm" as const,
    threshold,
    op: ">=" as const,
    severity: "warning" as const,
  };
  const raise = {
    ...base,
    id: `${id}-a`,
    readingId: `${id}-ra`,
    kind: "raise" as const,
    value: threshold + 10,
    ts: new Date(raiseMs).toISOString(),
  };
  if (clearAfterMs === null) return [raise];
  return [
    raise,
    {
      ...base,
      id: `${id}-b`,
      readingId: `${id}-rb`,
      kind: "clear" as const,
      value: threshold - 5,
      ts: new Date(raiseMs + clearAfterMs).toISOString(),
    },
  ];
}
