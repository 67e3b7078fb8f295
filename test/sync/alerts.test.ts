import { Value } from "@sinclair/typebox/value";
import { describe, expect, it } from "vitest";
import { alertsEndpoint, appendPath } from "../../daemon/config/alerts-endpoint.js";
import { renderConfig } from "../../daemon/config/render.js";
import type { AlertEvent } from "../../schemas/alert.js";
import { AlertBatch } from "../../schemas/alert-batch.js";
import {
  ALERTS_SCHEMA,
  alertBatchId,
  alertBatchJson,
  alertEnvelopeBytes,
} from "../../sync/alerts-batch.js";
import { batchId } from "../../sync/batch.js";
import { configError, loadText } from "../config/helpers.js";

const SENSOR = '[[sensors]]\nid = "gas0"\ndriver = "sim"\n';

function event(seq: number): AlertEvent {
  return {
    id: `k3f9-a${seq.toString(36)}`,
    readingId: `k3f9-${(seq * 10).toString(36)}`,
    rule: "co-warning",
    sensor: "gas0",
    gas: "co",
    kind: seq % 2 === 1 ? "raise" : "clear",
    value: 31.5,
    unit: "ppm",
    threshold: 30,
    op: ">=",
    severity: "warning",
    ts: "2026-11-26T10:40:36.000Z",
  };
}

describe("alerts endpoint", () => {
  it("batch format: the readings endpoint with /alerts appended to its path", () => {
    const base = { format: "batch" as const };
    expect(alertsEndpoint({ ...base, endpoint: "http://h/ingest" }, undefined)).toBe(
      "http://h/ingest/alerts",
    );
    expect(alertsEndpoint({ ...base, endpoint: "http://h:8787/ingest/" }, undefined)).toBe(
      "http://h:8787/ingest/alerts",
    );
    expect(alertsEndpoint({ ...base, endpoint: "https://h" }, undefined)).toBe("https://h/alerts");
    expect(
      alertsEndpoint({ ...base, endpoint: "https://h/new/proxyLambda?stage=1" }, undefined),
    ).toBe("https://h/new/proxyLambda/alerts?stage=1");
  });

  it('original format: off unless set; an explicit value wins; "" is off', () => {
    expect(
      alertsEndpoint({ format: "original", endpoint: "https://gw/new/proxyLambda" }, undefined),
    ).toBeNull();
    expect(
      alertsEndpoint(
        { format: "original", endpoint: "https://gw/new/proxyLambda" },
        "https://ingest/ingest/alerts",
      ),
    ).toBe("https://ingest/ingest/alerts");
    expect(alertsEndpoint({ format: "batch", endpoint: "http://h/ingest" }, "")).toBeNull();
    expect(appendPath("not a url", "alerts")).toBeNull();
  });
});

describe("alert batches", () => {
  const device = { id: "pi-lab-3", group: "2", gps: "37.5665, 126.9780" };
  const items = [1, 2, 3].map((seq) => {
    const json = JSON.stringify(event(seq));
    return { id: event(seq).id, json };
  });

  it("is the sensord.alerts.v1 document, byte for byte JSON.stringify of it, valid per the schema", () => {
    const built = alertBatchJson(device, items);
    const expected: AlertBatch = {
      schema: ALERTS_SCHEMA,
      device,
      alerts: [event(1), event(2), event(3)],
    };
    expect(built.json).toBe(JSON.stringify(expected));
    expect(Value.Check(AlertBatch, JSON.parse(built.json))).toBe(true);
  });

  it("the envelope size is exact: envelope + events + commas = the body", () => {
    const built = alertBatchJson(device, items);
    const eventBytes = items.reduce((sum, item) => sum + Buffer.byteLength(item.json), 0);
    expect(alertEnvelopeBytes(device) + eventBytes + (items.length - 1)).toBe(
      Buffer.byteLength(built.json),
    );
  });

  it("the id is a content hash over device and event ids: stable, and differs from a readings batch", () => {
    const ids = items.map((item) => item.id);
    const first = alertBatchJson(device, items).batchId;
    expect(first).toBe(alertBatchId("pi-lab-3", ids));
    expect(first).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(alertBatchJson({ ...device, group: "9" }, items).batchId).toBe(first);
    expect(alertBatchId("pi-lab-4", ids)).not.toBe(first);
    expect(alertBatchId("pi-lab-3", ids.slice(0, 2))).not.toBe(first);
    expect(batchId("pi-lab-3", ids)).not.toBe(first);
  });
});

describe("[sync] alerts_endpoint", () => {
  it('resolved at load: the format\'s default when absent, null for "", as written otherwise; rendered back', () => {
    const plain = loadText(`${SENSOR}\n[sync]\nendpoint = "http://127.0.0.1:8787/ingest"\n`);
    expect(plain.sync?.alertsEndpoint).toBe("http://127.0.0.1:8787/ingest/alerts");
    expect(loadText(renderConfig(plain)).sync).toEqual(plain.sync);
    const off = loadText(
      `${SENSOR}\n[sync]\nendpoint = "http://127.0.0.1:8787/ingest"\nalerts_endpoint = ""\n`,
    );
    expect(off.sync?.alertsEndpoint).toBeNull();
    expect(loadText(renderConfig(off)).sync).toEqual(off.sync);
    const set = loadText(
      `${SENSOR}\n[sync]\nendpoint = "http://127.0.0.1:8787/ingest"\nformat = "original"\nalerts_endpoint = "https://a.example/alerts"\n`,
    );
    expect(set.sync?.alertsEndpoint).toBe("https://a.example/alerts");
    expect(loadText(renderConfig(set)).sync).toEqual(set.sync);
  });

  it("a value that is not an http(s) URL is a config error naming sync.alerts_endpoint", () => {
    const error = configError(() =>
      loadText(
        `${SENSOR}\n[sync]\nendpoint = "http://127.0.0.1:8787/ingest"\nalerts_endpoint = "ftp://x/alerts"\n`,
      ),
    );
    expect(error.problems.map((problem) => problem.key)).toEqual(["sync.alerts_endpoint"]);
    expect(error.problems[0]?.message).toContain(
      '"ftp://x/alerts" is not an http:// or https:// URL',
    );
    expect(error.problems[0]?.message).toContain('or "" to not upload them');
  });
});
