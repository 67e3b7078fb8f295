import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { offlineStatus } from "../../cli/status/offline.js";
import { renderStatus } from "../../cli/status/render.js";
import { createLogger } from "../../core/logger.js";
import type { AlertUploadReport, StatusReport, SyncReport } from "../../daemon/control/status.js";
import { createMetrics } from "../../daemon/http/metrics.js";
import { openStoreReader } from "../../daemon/store/reader.js";
import { openStore } from "../../daemon/store/store.js";
import type { NewAlert } from "../../schemas/records.js";
import { ALERTS_OUTPUT } from "../../sync/output/names.js";
import { loadText } from "../config/helpers.js";
import { makeTempDir } from "../support/processes.js";

const NOW = Date.parse("2026-11-26T10:00:00.000Z");
const log = createLogger({ level: "error", journald: true, write: () => {} });

function sync(alerts: AlertUploadReport | null): SyncReport {
  return {
    state: "idle",
    endpoint: "http://127.0.0.1:8787/ingest",
    lastSuccessAt: null,
    lastError: null,
    nextAttemptAt: null,
    consecutiveFailures: 0,
    uploadedTotal: 0,
    requests: 0,
    bytesSent: 0,
    failuresTotal: 0,
    readingsPerSecond: 0,
    pending: 0,
    quarantinedReadings: 0,
    quarantined: [],
    alerts,
  };
}

function report(syncReport: SyncReport | null): StatusReport {
  return {
    running: true,
    daemon: null,
    sensors: [],
    alarms: [],
    buffer: {
      uncommitted: 0,
      uploadPending: 0,
      oldestPendingAgeMs: null,
      databaseBytes: 1024,
      maxBytes: 1024 * 1024,
      droppedReadings: 0,
    },
    sync: syncReport,
    mqtt: null,
    http: null,
  };
}

function alertLines(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("  alerts:") || line.startsWith("    last error"));
}

describe("sensorctl status: alert uploads", () => {
  it("shows pending and uploaded counts, refused events and the last error", () => {
    const alerts = {
      endpoint: "http://127.0.0.1:8787/ingest/alerts",
      pending: 3,
      uploadedTotal: 7,
      quarantined: 0,
      lastError: null,
    };
    expect(alertLines(renderStatus(report(sync(alerts)), NOW))).toEqual([
      "  alerts: 3 pending, 7 uploaded (http://127.0.0.1:8787/ingest/alerts)",
    ]);
    expect(
      alertLines(
        renderStatus(report(sync({ ...alerts, quarantined: 2, lastError: "HTTP 503" })), NOW),
      ),
    ).toEqual([
      "  alerts: 3 pending, 7 uploaded, 2 quarantined (http://127.0.0.1:8787/ingest/alerts)",
      "    last error: HTTP 503",
    ]);
    expect(alertLines(renderStatus(report(sync(null)), NOW))).toEqual(["  alerts: not uploaded"]);
  });

  it("exports sensord_upload_alerts_pending / _total, and no such series when alerts are off", async () => {
    const alerts = {
      endpoint: "http://h/ingest/alerts",
      pending: 4,
      uploadedTotal: 9,
      quarantined: 0,
      lastError: null,
    };
    const scrape = async (status: StatusReport): Promise<string[]> => {
      const metrics = createMetrics({
        report: () => status,
        readingsCommitted: () => 0,
        alerts: () => ({ raise: 0, clear: 0 }),
        has: { uploads: true, mqtt: false },
      });
      return (await metrics.metrics())
        .split("\n")
        .filter((line) => /^sensord_upload_alerts/.test(line));
    };
    expect(await scrape(report(sync(alerts)))).toEqual([
      "sensord_upload_alerts_pending 4",
      "sensord_upload_alerts_total 9",
    ]);
    expect(await scrape(report(sync(null)))).toEqual([]);
  });
});

describe("offline status: alert uploads from the database", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(() => cleanup());

  function alert(seq: number): NewAlert {
    return {
      seq,
      readingSeq: 0,
      rule: "co-warning",
      sensor: "gas0",
      gas: "co",
      kind: "raise",
      value: 40,
      unit: "ppm",
      threshold: 35,
      op: ">=",
      severity: "warning",
      tsMs: NOW - 60_000 + seq,
    };
  }

  function statusOf(path: string): SyncReport["alerts"] {
    const config = loadText(
      `[storage]\npath = ${JSON.stringify(path)}\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n[sync]\nendpoint = "http://127.0.0.1:8787/ingest"\n`,
    );
    const reader = openStoreReader(path);
    try {
      return offlineStatus(config, reader, NOW).sync?.alerts ?? null;
    } finally {
      reader.close();
    }
  }

  it("counts the events above the watermark; quarantined ones are not pending", () => {
    const path = join(dir, "sensord.db");
    const store = openStore({ path, maxBytes: 64 * 1024 * 1024, log });
    store.commit([], [1, 2, 3, 4, 5].map(alert));
    const queue = store.alertUploadQueue(ALERTS_OUTPUT);
    queue.markUploaded(2);
    // Never backwards, even if asked.
    queue.markUploaded(1);
    expect(queue.watermark()).toBe(2);
    expect(queue.pending(10).map((item) => item.seq)).toEqual([3, 4, 5]);
    queue.quarantine(
      { firstSeq: 3, lastSeq: 3, alerts: 1 },
      { batchId: "b", status: 422, reason: "HTTP 422" },
    );
    expect(queue.watermark()).toBe(3);
    expect(queue.pending(10).map((item) => item.seq)).toEqual([4, 5]);
    store.close();
    expect(statusOf(path)).toEqual({
      endpoint: "http://127.0.0.1:8787/ingest/alerts",
      pending: 2,
      uploadedTotal: null,
      quarantined: 1,
      lastError: null,
    });
  });
});
