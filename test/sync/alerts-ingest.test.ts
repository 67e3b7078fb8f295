import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type IngestServer, startIngestServer } from "../../cloud/index.js";
import type { StoredAlert } from "../../cloud/store/types.js";
import { createLogger } from "../../core/logger.js";
import { openStore, type SqliteStore } from "../../daemon/store/store.js";
import type { SyncConfig } from "../../schemas/config-types.js";
import type { NewAlert, NewReading } from "../../schemas/records.js";
import { alertBatchId } from "../../sync/alerts-batch.js";
import { ALERTS_OUTPUT, READINGS_OUTPUT } from "../../sync/output/names.js";
import { SyncWorker } from "../../sync/worker.js";
import { type FaultProxy, startFaultProxy } from "../support/http/fault-proxy.js";
import { makeTempDir, waitUntil } from "../support/processes.js";
import { testSyncConfig } from "./config.js";

const T0 = Date.parse("2026-11-26T10:40:36.000Z");
const API_KEY = "k-alerts-test";

/** `count` readings from seq `from`, each raising (odd) or clearing (even) an alert. */
function commitWithAlerts(store: SqliteStore, from: number, count: number): void {
  const readings: NewReading[] = [];
  const alerts: NewAlert[] = [];
  for (let seq = from; seq < from + count; seq++) {
    const tsMs = T0 + seq * 1000;
    readings.push({
      seq,
      sensor: "gas0",
      gas: "co",
      value: seq % 2 === 1 ? 60 : 10,
      unit: "ppm",
      tsMs,
      flags: 0,
      sensorId: null,
      sensorType: null,
    });
    alerts.push({
      seq,
      readingSeq: seq,
      rule: "co-warning",
      sensor: "gas0",
      gas: "co",
      kind: seq % 2 === 1 ? "raise" : "clear",
      value: seq % 2 === 1 ? 60 : 10,
      unit: "ppm",
      threshold: 50,
      op: ">=",
      severity: "warning",
      tsMs,
    });
  }
  store.commit(readings, alerts);
}

/** The real worker uploading alert events to the real ingest, through a fault-injecting proxy. */
describe("alert uploads against sensord-ingest", () => {
  let dir: string;
  let cleanup: () => void;
  let store: SqliteStore;
  let ingest: IngestServer;
  let proxy: FaultProxy;
  let worker: SyncWorker | null = null;
  const lines: string[] = [];
  const log = createLogger({ level: "info", journald: true, write: (line) => lines.push(line) });

  beforeEach(async () => {
    lines.length = 0;
    ({ dir, cleanup } = makeTempDir());
    store = openStore({ path: join(dir, "s.db"), maxBytes: 64 * 1024 * 1024, log });
    ingest = await startIngestServer({ dbPath: join(dir, "ingest.db"), apiKey: API_KEY });
    proxy = await startFaultProxy(`${ingest.url}/ingest`);
  });
  afterEach(async () => {
    await worker?.stop();
    worker = null;
    await proxy.close();
    await ingest.close();
    store.close();
    cleanup();
  });

  function newWorker(overrides: Partial<SyncConfig> = {}): SyncWorker {
    worker = new SyncWorker({
      config: testSyncConfig(proxy.url, { alertsEndpoint: `${proxy.url}/alerts`, ...overrides }),
      device: { id: "pi-lab-3", group: "2", gps: null, timezone: "Asia/Seoul" },
      queue: store.syncQueue(READINGS_OUTPUT),
      alertQueue: store.alertUploadQueue(ALERTS_OUTPUT),
      log,
      apiKey: () => API_KEY,
      // Backoffs at their shortest: 1 s.
      random: () => 0,
    });
    return worker;
  }

  async function ingestedAlerts(): Promise<StoredAlert[]> {
    const response = await fetch(`${ingest.url}/alerts?device=pi-lab-3&limit=10000`, {
      headers: { "x-api-key": API_KEY },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { alerts: StoredAlert[] };
    return body.alerts.sort((a, b) => a.ts.localeCompare(b.ts));
  }

  const alertRequests = () => proxy.requests.filter((request) => request.path === "/ingest/alerts");
  const alertIds = (from: number, count: number) =>
    Array.from(
      { length: count },
      (_, index) => `${store.idPrefix}-a${(from + index).toString(36)}`,
    );

  it("delivers every event once, oldest first in batches of 500, with the device and the upload headers", async () => {
    commitWithAlerts(store, 1, 600);
    const sync = newWorker();
    await sync.trigger();
    expect(sync.status().alerts).toEqual({
      endpoint: `${proxy.url}/alerts`,
      pending: 0,
      uploadedTotal: 600,
      quarantined: 0,
      lastError: null,
    });
    const requests = alertRequests();
    expect(requests).toHaveLength(2);
    // Alerts go before the readings of the same cycle.
    expect(proxy.requests[0]?.path).toBe("/ingest/alerts");
    expect(requests[0]?.headers).toMatchObject({
      "idempotency-key": alertBatchId("pi-lab-3", alertIds(1, 500)),
      "x-api-key": API_KEY,
      index: "gasdetect",
      "content-encoding": "gzip",
      "content-type": "application/json",
    });
    expect(requests[1]?.headers["idempotency-key"]).toBe(
      alertBatchId("pi-lab-3", alertIds(501, 100)),
    );
    expect(requests[0]?.headers["user-agent"]).toMatch(/^sensord\//);

    const stored = await ingestedAlerts();
    expect(stored).toHaveLength(600);
    expect(stored.map((alert) => alert.id)).toEqual(alertIds(1, 600));
    expect(stored[0]).toMatchObject({
      device: "pi-lab-3",
      group: "2",
      kind: "raise",
      value: 60,
      threshold: 50,
      readingId: `${store.idPrefix}-r1`,
      ts: "2026-11-26T10:40:37.000Z",
    });

    // Nothing pending: the next cycles send no alerts, new events go alone.
    await sync.trigger();
    expect(alertRequests()).toHaveLength(2);
    commitWithAlerts(store, 601, 1);
    await sync.trigger();
    expect(alertRequests()).toHaveLength(3);
    expect(alertRequests()[2]?.headers["content-encoding"]).toBeUndefined();
    expect(await ingestedAlerts()).toHaveLength(601);
    expect(sync.status().alerts?.uploadedTotal).toBe(601);
  });

  it("a 500 backs off without holding readings back, then the retry delivers the events once", async () => {
    commitWithAlerts(store, 1, 4);
    proxy.next({ kind: "respond", status: 500, body: '{"message":"database busy"}' });
    const sync = newWorker();
    await sync.trigger();
    expect(sync.status().alerts).toMatchObject({
      pending: 4,
      uploadedTotal: 0,
      lastError: "HTTP 500: database busy",
    });
    // The readings of the same cycle went regardless.
    expect(sync.status()).toMatchObject({ state: "idle", queue: { pending: 0 }, lastError: null });
    expect(lines.filter((line) => line.includes("alert upload failed"))).toHaveLength(1);

    await waitUntil(() => sync.status().alerts?.pending === 0, 10_000, "the alerts retry");
    expect(sync.status().alerts).toMatchObject({ uploadedTotal: 4, lastError: null });
    expect((await ingestedAlerts()).map((alert) => alert.id)).toEqual(alertIds(1, 4));
    expect(alertRequests()).toHaveLength(2);
    expect(alertRequests()[0]?.headers["idempotency-key"]).toBe(
      alertRequests()[1]?.headers["idempotency-key"],
    );
    expect(
      lines.some((line) => line.includes("alert uploads work again after 1 failed attempt(s)")),
    ).toBe(true);
  });

  it("a 422 quarantines the batch (kept, not retried) and later events still go", async () => {
    commitWithAlerts(store, 1, 3);
    proxy.next({ kind: "respond", status: 422, body: '{"message":"alerts/0/value: bad"}' });
    const sync = newWorker();
    await sync.trigger();
    expect(sync.status().alerts).toEqual({
      endpoint: `${proxy.url}/alerts`,
      pending: 0,
      uploadedTotal: 0,
      quarantined: 3,
      lastError: null,
    });
    expect(store.alertUploadQueue(ALERTS_OUTPUT).quarantined()).toMatchObject([
      {
        batchId: alertBatchId("pi-lab-3", alertIds(1, 3)),
        alerts: 3,
        firstSeq: 1,
        lastSeq: 3,
        status: 422,
        reason: "HTTP 422: alerts/0/value: bad",
      },
    ]);
    expect(lines.some((line) => line.includes("kept in quarantine, later alerts go on"))).toBe(
      true,
    );

    commitWithAlerts(store, 4, 2);
    await sync.trigger();
    await sync.trigger();
    expect(alertRequests()).toHaveLength(2);
    expect((await ingestedAlerts()).map((alert) => alert.id)).toEqual(alertIds(4, 2));
    expect(sync.status().alerts).toMatchObject({ pending: 0, uploadedTotal: 2, quarantined: 3 });
    // The refused events are still in the database.
    expect(store.alertUploadQueue(ALERTS_OUTPUT).stats()).toEqual({
      pending: 0,
      quarantinedBatches: 1,
      quarantinedAlerts: 3,
    });
  });

  it("a 401 is reported as auth failed; an alerts endpoint that is off sends nothing", async () => {
    commitWithAlerts(store, 1, 2);
    proxy.next({ kind: "respond", status: 401, body: "bad key" });
    const sync = newWorker();
    await sync.trigger();
    expect(sync.status().alerts).toMatchObject({
      pending: 2,
      lastError: "auth failed: HTTP 401: bad key",
    });
    await sync.stop();

    const off = newWorker({ alertsEndpoint: null });
    await off.trigger();
    expect(off.status().alerts).toBeNull();
    expect(alertRequests()).toHaveLength(1);
  });
});
