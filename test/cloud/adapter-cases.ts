import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { expect } from "vitest";
import type { IngestStats } from "../../cloud/store/types.js";
import type { AlertBatch } from "../../schemas/alert-batch.js";
import type { BatchReading } from "../../schemas/batch.js";
import { alertPair } from "./fleet-fixtures.js";
import { BASE_MS, makeBatch, originalDocument, reading, readings } from "./helpers.js";

/**
 * Requests and the answers they must get, whatever adapter carries them to
 * the ingest core: the Node server (cloud/http/) and the Lambda handler
 * (cloud/aws/) both run this table (test/aws/lambda-adapters.test.ts), over
 * a fresh SQLite store per case, and must also answer each other identically.
 * Behaviour of one adapter alone (chunked uploads, in-flight bytes, Host,
 * API key, event mapping) stays in that adapter's tests.
 */

export interface CaseRequest {
  method?: "GET" | "POST" | "PUT";
  /** Path and query. */
  path: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as it is. POST with a body by default. */
  body?: unknown;
  /** gzip the body and send content-encoding: gzip. */
  gzip?: boolean;
  /** Sends no content-type (POSTs get application/json otherwise). */
  noContentType?: boolean;
}

export interface CaseAnswer {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  text: string;
}

export interface Expected {
  status: number;
  /** The whole JSON body. */
  json?: unknown;
  /** Part of the JSON body (toMatchObject). */
  like?: Record<string, unknown>;
  text?: string;
  /** A header's value; null: absent. */
  headers?: Record<string, string | null>;
  check?(json: unknown): void;
}

export interface CaseStep {
  request: CaseRequest;
  expect: Expected;
}

export interface AdapterSetup {
  maxBody?: number;
  nowMs?: number;
}

export interface AdapterCase {
  name: string;
  setup?: AdapterSetup;
  steps: CaseStep[];
  /** The store's counts after the steps. */
  stats?: Omit<IngestStats, "scope">;
}

/** What the adapters' answers must agree on besides status and body. */
export const COMPARED_HEADERS = [
  "content-type",
  "allow",
  "idempotent-replayed",
  "retry-after",
  "content-disposition",
  "cache-control",
  "x-content-type-options",
  "etag",
] as const;

/** The bytes and headers a case request puts on the wire. */
export function encodeRequest(request: CaseRequest): {
  method: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
} {
  const method = request.method ?? (request.body === undefined ? "GET" : "POST");
  if (request.body === undefined)
    return { method, headers: { ...request.headers }, body: undefined };
  const raw = request.body;
  let body = Buffer.isBuffer(raw)
    ? raw
    : Buffer.from(typeof raw === "string" ? raw : JSON.stringify(raw));
  const headers: Record<string, string> = request.noContentType
    ? {}
    : { "content-type": "application/json" };
  Object.assign(headers, request.headers);
  if (request.gzip) {
    body = gzipSync(body);
    headers["content-encoding"] = "gzip";
  }
  return { method, headers, body };
}

/** Asserts one answer against its expectation; `where` names the adapter and step in failures. */
export function checkAnswer(where: string, answer: CaseAnswer, expected: Expected): void {
  expect([where, answer.status, answer.text.slice(0, 300)]).toEqual([
    where,
    expected.status,
    expect.any(String),
  ]);
  const json = answer.headers["content-type"]?.startsWith("application/json")
    ? JSON.parse(answer.text)
    : undefined;
  if (expected.json !== undefined) expect(json, where).toEqual(expected.json);
  if (expected.like !== undefined) expect(json, where).toMatchObject(expected.like);
  if (expected.text !== undefined) expect(answer.text, where).toBe(expected.text);
  for (const [name, value] of Object.entries(expected.headers ?? {})) {
    expect([where, name, answer.headers[name] ?? null]).toEqual([where, name, value]);
  }
  expected.check?.(json);
}

const NO_STATS = { readings: 0, duplicates: 0, batches: 0 };
/** The documented etag of group "2"'s first set, computed here rather than by the product. */
const GROUP_2_ETAG = `g1-${createHash("sha256").update("group\n2").digest("hex").slice(0, 8)}`;
const DEVICE = { device: "pi-1", group: "2", gps: "37.61, 126.99" };
const wire = (one: BatchReading) => ({ ...one, ...DEVICE });
const ids = (json: unknown) =>
  (json as { readings: Array<{ id: string }> }).readings.map((r) => r.id);
const post = (path: string, body: unknown, more: Omit<CaseRequest, "path" | "body"> = {}) => ({
  ...more,
  path,
  body,
});
const ingest = (body: unknown, more: Omit<CaseRequest, "path" | "body"> = {}) =>
  post("/ingest", body, more);
const gasdetect = { headers: { index: "gasdetect" } };

/** What to break in a valid three-reading batch. */
interface Spoil {
  device?: { id?: string; group?: string };
  readingIds?: Record<number, string>;
}

function spoiled(spoil: Spoil) {
  const batch = makeBatch("b-1", readings(0, 3));
  return {
    ...batch,
    device: { ...batch.device, ...spoil.device },
    readings: batch.readings.map((one, index) => ({
      ...one,
      id: spoil.readingIds?.[index] ?? one.id,
    })),
  };
}

const exactBody = JSON.stringify(makeBatch("b", readings(0, 1)));
const TIMES_NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const alerts: AlertBatch = {
  schema: "sensord.alerts.v1",
  device: { id: "pi-a", group: "1" },
  alerts: [
    ...alertPair("e1", "no2", BASE_MS + 10_000, 5000),
    ...alertPair("e2", "co", BASE_MS + 30_000, null),
  ],
};

export const ADAPTER_CASES: AdapterCase[] = [
  // POST /ingest: sensord.batch.v1
  {
    name: "stores a batch and answers with the counts",
    steps: [
      {
        request: ingest(makeBatch("b-1", readings(0, 5)), {
          headers: { "idempotency-key": "b-1" },
        }),
        expect: {
          status: 200,
          json: { accepted: 5, duplicates: 0, batchId: "b-1" },
          headers: {
            "idempotent-replayed": null,
            "content-type": "application/json; charset=utf-8",
          },
        },
      },
    ],
    stats: { readings: 5, duplicates: 0, batches: 1 },
  },
  {
    name: "answers a repeated idempotency key with the first answer and processes nothing",
    steps: [1, 2].map((n) => ({
      request: ingest(makeBatch("b-1", readings(0, 5)), { headers: { "idempotency-key": "b-1" } }),
      expect: {
        status: 200,
        json: { accepted: 5, duplicates: 0, batchId: "b-1" },
        headers: { "idempotent-replayed": n === 1 ? null : "true" },
      },
    })),
    stats: { readings: 5, duplicates: 0, batches: 1 },
  },
  {
    name: "uses the batchId as the idempotency key when the header is missing",
    steps: [1, 2].map((n) => ({
      request: ingest(makeBatch("b-1", readings(0, 3))),
      expect: {
        status: 200,
        json: { accepted: 3, duplicates: 0, batchId: "b-1" },
        headers: { "idempotent-replayed": n === 1 ? null : "true" },
      },
    })),
    stats: { readings: 3, duplicates: 0, batches: 1 },
  },
  {
    name: "counts readings already stored under another batch as duplicates and stores them once",
    steps: [
      {
        request: ingest(makeBatch("b-1", readings(0, 5)), {
          headers: { "idempotency-key": "b-1" },
        }),
        expect: { status: 200, json: { accepted: 5, duplicates: 0, batchId: "b-1" } },
      },
      {
        request: ingest(makeBatch("b-2", readings(3, 5)), {
          headers: { "idempotency-key": "b-2" },
        }),
        expect: { status: 200, json: { accepted: 3, duplicates: 2, batchId: "b-2" } },
      },
      {
        request: { path: "/readings" },
        expect: { status: 200, json: { readings: readings(0, 8).map(wire) } },
      },
    ],
    stats: { readings: 8, duplicates: 2, batches: 2 },
  },
  {
    name: "counts a reading repeated inside one batch as a duplicate",
    steps: [
      {
        request: ingest(makeBatch("b-1", [reading(1), reading(1), reading(2)])),
        expect: { status: 200, json: { accepted: 2, duplicates: 1, batchId: "b-1" } },
      },
    ],
  },
  {
    name: "accepts a gzip body",
    steps: [
      {
        request: ingest(makeBatch("b-gz", readings(0, 1000)), { gzip: true }),
        expect: { status: 200, json: { accepted: 1000, duplicates: 0, batchId: "b-gz" } },
      },
    ],
    stats: { readings: 1000, duplicates: 0, batches: 1 },
  },
  {
    name: "stores every field of a reading and returns it in the wire shape",
    steps: (() => {
      const sent = reading(7, {
        gas: "no2",
        unit: "ppb",
        value: 52.5,
        flags: ["warmup", "out_of_range"],
        sensorId: "0006",
        sensorType: "9",
      });
      return [
        {
          request: ingest(makeBatch("b-1", [sent], { id: "pi-9", group: "lab" })),
          expect: { status: 200 },
        },
        {
          request: { path: "/readings" },
          expect: { status: 200, json: { readings: [{ ...sent, device: "pi-9", group: "lab" }] } },
        },
      ];
    })(),
  },

  // POST /ingest: refused bodies
  {
    name: "answers 400 to a body that is not JSON",
    steps: [
      {
        request: ingest('{"schema": "sensord.batch.v1",'),
        expect: { status: 400, like: { code: "INGEST_BAD_JSON" } },
      },
    ],
    stats: NO_STATS,
  },
  {
    name: "answers 400 to an empty body and to gzip that is not gzip",
    steps: [
      { request: ingest(""), expect: { status: 400, like: { code: "INGEST_BAD_JSON" } } },
      {
        request: ingest("plain text", { headers: { "content-encoding": "gzip" } }),
        expect: { status: 400, like: { code: "INGEST_BAD_GZIP", header: "content-encoding" } },
      },
    ],
    stats: NO_STATS,
  },
  {
    name: "answers 415 to an unsupported content-encoding",
    steps: [
      {
        request: ingest(makeBatch("b", readings(0, 1)), { headers: { "content-encoding": "br" } }),
        expect: { status: 415, like: { code: "INGEST_ENCODING", header: "content-encoding" } },
      },
    ],
  },
  {
    name: "answers 422 naming the field of a reading with a string value, and stores nothing",
    steps: [
      {
        // Built as plain JSON: the wire type rightly cannot hold a string value.
        request: ingest({
          ...makeBatch("b-1", []),
          readings: readings(0, 5).map((one, index) =>
            index === 3 ? { ...one, value: "3.5" } : one,
          ),
        }),
        expect: {
          status: 422,
          json: {
            error: "/readings/3/value: Expected number",
            code: "INGEST_SCHEMA",
            field: "/readings/3/value",
            errors: [{ field: "/readings/3/value", message: "Expected number" }],
            truncated: false,
          },
        },
      },
    ],
    stats: NO_STATS,
  },
  {
    name: "lists every error, the first one as `field`",
    steps: [
      {
        request: ingest({
          ...makeBatch(
            "b-1",
            readings(0, 3).map((one) => ({ ...one, gas: "xenon" as "co" })),
          ),
          device: { id: "", group: "2" },
        }),
        expect: {
          status: 422,
          like: {
            field: "/device/id",
            errors: expect.arrayContaining(
              ["/device/id", "/readings/0/gas", "/readings/1/gas", "/readings/2/gas"].map((field) =>
                expect.objectContaining({ field }),
              ),
            ),
          },
        },
      },
    ],
  },
  {
    name: "caps the error list at 100 entries and says so",
    steps: [
      {
        request: ingest(
          {
            ...makeBatch("b-1", []),
            readings: readings(0, 300).map((one) => ({ ...one, value: "x" })),
          },
          { gzip: true },
        ),
        expect: {
          status: 422,
          like: { field: "/readings/0/value", truncated: true },
          check: (json) => expect((json as { errors: unknown[] }).errors).toHaveLength(100),
        },
      },
    ],
  },
  {
    name: "answers 422 to a body that is neither format, naming /schema",
    steps: [
      { request: ingest({ hello: "world" }), expect: { status: 422, like: { field: "/schema" } } },
      {
        request: ingest({ ...makeBatch("b", readings(0, 1)), schema: "sensord.batch.v2" }),
        expect: { status: 422, like: { field: "/schema" } },
      },
      { request: ingest([1, 2]), expect: { status: 422, like: { field: "" } } },
    ],
  },
  {
    name: "answers 413 to a body over the limit, and keeps serving",
    setup: { maxBody: 64 * 1024 },
    steps: [
      {
        request: ingest(makeBatch("b-big", readings(0, 1000))),
        expect: { status: 413, like: { code: "INGEST_TOO_LARGE", limit: 65536 } },
      },
      { request: { path: "/healthz" }, expect: { status: 200 } },
    ],
    stats: NO_STATS,
  },
  {
    name: "answers 413 to a gzip bomb: small on the wire, past the limit inflated",
    setup: { maxBody: 1024 * 1024 },
    steps: [
      {
        // 64 MiB of spaces (valid JSON whitespace) deflates to ~64 KiB.
        request: ingest(gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)), {
          headers: { "content-encoding": "gzip" },
        }),
        expect: { status: 413, like: { code: "INGEST_TOO_LARGE", limit: 1024 * 1024 } },
      },
    ],
    stats: NO_STATS,
  },
  {
    name: "answers a body exactly at the limit",
    setup: { maxBody: Buffer.byteLength(exactBody) },
    steps: [
      { request: ingest(exactBody), expect: { status: 200 } },
      { request: ingest(`${exactBody} `), expect: { status: 413 } },
    ],
  },

  // POST /ingest and /proxyLambda: original documents
  {
    name: "stores one reading per gas with the index header",
    steps: [
      {
        request: ingest(originalDocument("doc-1"), gasdetect),
        expect: { status: 200, json: { accepted: 4, duplicates: 0, batchId: "doc-1" } },
      },
      {
        request: { path: "/readings?gas=co" },
        expect: {
          status: 200,
          json: {
            readings: [
              {
                id: "doc-1:co",
                device: "",
                group: "2",
                gps: "37.61002501514269, 126.99636868892937",
                sensor: "0005",
                gas: "co",
                value: 26.2,
                unit: "",
                // No x-timezone header: createdtime is UTC.
                ts: "2021-09-03T18:14:49.000Z",
                flags: [],
                sensorId: "0005",
                sensorType: "8",
              },
            ],
          },
        },
      },
      {
        request: { path: "/readings" },
        expect: {
          status: 200,
          check: (json) =>
            expect(ids(json).sort()).toEqual(["doc-1:c2h5oh", "doc-1:co", "doc-1:h2", "doc-1:no2"]),
        },
      },
    ],
  },
  {
    name: "reads createdtime in the x-timezone zone and takes the device from x-device-id",
    steps: [
      {
        request: ingest(originalDocument("doc-1"), {
          headers: { index: "gasdetect", "x-timezone": "Asia/Seoul", "x-device-id": "pi-7" },
        }),
        expect: { status: 200 },
      },
      {
        request: { path: "/readings?gas=no2" },
        expect: {
          status: 200,
          like: {
            readings: [
              { id: "doc-1:no2", device: "pi-7", ts: "2021-09-03T09:14:49.000Z", value: 52 },
            ],
          },
        },
      },
    ],
  },
  {
    name: "answers 400 naming the header when index is missing, and for an unknown zone",
    steps: [
      {
        request: ingest(originalDocument()),
        expect: {
          status: 400,
          like: { code: "INGEST_MISSING_HEADER", header: "index" },
          check: (json) => expect((json as { error: string }).error).toContain('"index"'),
        },
      },
      {
        request: ingest(originalDocument(), {
          headers: { index: "gasdetect", "x-timezone": "Mars/Olympus" },
        }),
        expect: { status: 400, like: { header: "x-timezone" } },
      },
    ],
    stats: NO_STATS,
  },
  {
    name: "accepts the same document on /proxyLambda (the original gateway path), gzip'd",
    steps: [
      {
        request: post("/proxyLambda", originalDocument("doc-2"), { ...gasdetect, gzip: true }),
        expect: { status: 200, json: { accepted: 4, duplicates: 0, batchId: "doc-2" } },
      },
    ],
    stats: { readings: 4, duplicates: 0, batches: 1 },
  },
  {
    name: "counts a re-sent document (no idempotency key) as duplicates",
    steps: [
      {
        request: ingest(originalDocument("doc-1"), gasdetect),
        expect: { status: 200, json: { accepted: 4, duplicates: 0, batchId: "doc-1" } },
      },
      {
        request: ingest(originalDocument("doc-1"), gasdetect),
        expect: { status: 200, json: { accepted: 0, duplicates: 4, batchId: "doc-1" } },
      },
    ],
    stats: { readings: 4, duplicates: 4, batches: 2 },
  },
  {
    name: "answers 422 naming the field for a bad gas entry or an impossible createdtime",
    steps: [
      {
        request: ingest(originalDocument("doc-1", { co: { value: 26.2 } }), gasdetect),
        expect: { status: 422, like: { field: "/co/value" } },
      },
      {
        request: ingest(
          originalDocument("doc-1", { h2: { createdtime: "2021-02-30 10:00:00" } }),
          gasdetect,
        ),
        expect: { status: 422, like: { field: "/h2/createdtime" } },
      },
    ],
  },
  {
    name: 'accepts the reference sample\'s "400" (no decimals) and refuses a value that is not a number',
    steps: [
      {
        request: ingest(originalDocument("doc-1", { h2: { value: "400" } }), gasdetect),
        expect: { status: 200 },
      },
      {
        request: ingest(originalDocument("doc-2", { h2: { value: "high" } }), gasdetect),
        expect: { status: 422, like: { field: "/h2/value" } },
      },
    ],
  },

  // Routing
  {
    name: "answers 404 to an unknown path and 405 to a wrong method",
    steps: [
      { request: { path: "/nope" }, expect: { status: 404, like: { code: "INGEST_NOT_FOUND" } } },
      {
        request: { path: "/ingest" },
        expect: { status: 405, like: { code: "INGEST_METHOD" }, headers: { allow: "POST" } },
      },
      {
        request: post("/readings", {}),
        expect: { status: 405, headers: { allow: "GET" } },
      },
    ],
  },

  // content-type on POST
  ...[
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin1",
    "application/jsonx",
  ].map(
    (type): AdapterCase => ({
      name: `answers 415 to content-type ${type}, storing nothing`,
      steps: [
        {
          request: ingest(makeBatch("b-1", readings(0, 3)), { headers: { "content-type": type } }),
          expect: { status: 415, like: { code: "INGEST_CONTENT_TYPE", header: "content-type" } },
        },
      ],
      stats: NO_STATS,
    }),
  ),
  {
    name: "answers 415 to a missing content-type, on /ingest/alerts too",
    steps: [
      {
        request: ingest(makeBatch("b-1", readings(0, 3)), { noContentType: true }),
        expect: {
          status: 415,
          like: {
            error: 'content-type is missing: send "application/json" (charset utf-8 if any)',
            code: "INGEST_CONTENT_TYPE",
          },
        },
      },
      {
        request: post("/ingest/alerts", "{}", { headers: { "content-type": "text/plain" } }),
        expect: { status: 415, like: { code: "INGEST_CONTENT_TYPE" } },
      },
    ],
    stats: NO_STATS,
  },
  {
    name: "accepts application/json with or without charset=utf-8, in any case",
    steps: [
      "application/json",
      "Application/JSON; charset=UTF-8",
      'application/json;charset="utf-8"',
    ].map((type, index) => ({
      request: ingest(makeBatch(`b-${index}`, [reading(index)]), {
        headers: { "content-type": type },
      }),
      expect: { status: 200 },
    })),
    stats: { readings: 3, duplicates: 0, batches: 3 },
  },

  // Length and character limits
  ...(
    [
      ["a 65-character device id", { device: { id: "d".repeat(65) } }, "/device/id"],
      ["a 65-character group", { device: { group: "g".repeat(65) } }, "/device/group"],
      ["a device id with a newline", { device: { id: "pi\n1" } }, "/device/id"],
      ["a 129-character reading id", { readingIds: { 1: "r".repeat(129) } }, "/readings/1/id"],
      ["an empty reading id", { readingIds: { 2: "" } }, "/readings/2/id"],
      ["a reading id with a NUL", { readingIds: { 0: "r\u0000" } }, "/readings/0/id"],
      ["a reading id with DEL", { readingIds: { 0: "r\u007f" } }, "/readings/0/id"],
    ] as Array<[string, Spoil, string]>
  ).map(
    ([what, spoil, field]): AdapterCase => ({
      name: `answers 422 naming the field for ${what}, storing nothing`,
      steps: [
        {
          request: ingest(spoiled(spoil)),
          expect: { status: 422, like: { code: "INGEST_SCHEMA", field } },
        },
      ],
      stats: NO_STATS,
    }),
  ),
  {
    name: "accepts the longest allowed names (64 and 128 characters)",
    steps: [
      {
        request: ingest(
          makeBatch("b-1", [reading(0, { id: "r".repeat(128) })], {
            id: "d".repeat(64),
            group: "g".repeat(64),
          }),
        ),
        expect: { status: 200, like: { accepted: 1 } },
      },
    ],
  },

  // Reading times
  {
    name: "answers 422 naming the reading for an impossible calendar date; 2024-02-29 is fine",
    setup: { nowMs: TIMES_NOW },
    steps: [
      ...[
        "2026-02-30T00:00:00.000Z",
        "2026-04-31T10:00:00.000Z",
        "2026-11-26T24:00:00.000Z",
        "2025-02-29T00:00:00.000Z",
      ].map((ts) => ({
        request: ingest(makeBatch(`b-${ts}`, [reading(0), reading(1, { ts })])),
        expect: { status: 422, like: { field: "/readings/1/ts" } },
      })),
      {
        request: ingest(makeBatch("leap", [reading(2, { ts: "2024-02-29T23:59:59.999Z" })])),
        expect: { status: 200 },
      },
    ],
  },
  {
    name: "answers 422 for a time before 2000 or more than a day ahead of the server's clock, and accepts one just inside",
    setup: { nowMs: TIMES_NOW },
    steps: [
      {
        request: ingest(makeBatch("e", [reading(0, { ts: "1999-12-31T23:59:59.999Z" })])),
        expect: {
          status: 422,
          like: {
            field: "/readings/0/ts",
            error: "/readings/0/ts: Expected a time after 2000-01-01 (was the device clock set?)",
          },
        },
      },
      {
        request: ingest(
          makeBatch("a", [
            reading(0),
            reading(1, { ts: new Date(TIMES_NOW + 86_400_001).toISOString() }),
          ]),
        ),
        expect: {
          status: 422,
          like: {
            field: "/readings/1/ts",
            error:
              "/readings/1/ts: Expected a time at most a day ahead of the server's clock (2026-12-04T12:00:00.000Z)",
          },
        },
      },
      {
        request: ingest(
          makeBatch("i", [
            reading(0, { ts: "2000-01-01T00:00:00.000Z" }),
            reading(1, { ts: new Date(TIMES_NOW + 86_400_000).toISOString() }),
          ]),
        ),
        expect: { status: 200, like: { accepted: 2 } },
      },
    ],
    stats: { readings: 2, duplicates: 0, batches: 1 },
  },
  {
    name: "refuses an original document whose createdtime is before 2000",
    setup: { nowMs: TIMES_NOW },
    steps: [
      {
        request: ingest(
          originalDocument("doc-old", { no2: { createdtime: "1970-01-01 00:00:07" } }),
          gasdetect,
        ),
        expect: { status: 422, like: { field: "/no2/createdtime" } },
      },
    ],
  },

  // The dashboard's routes
  {
    name: "stores alert events once and lists them newest first",
    steps: [
      {
        request: post("/ingest/alerts", alerts, { gzip: true }),
        expect: { status: 200, json: { accepted: 3, duplicates: 0 } },
      },
      {
        request: post("/ingest/alerts", alerts),
        expect: { status: 200, json: { accepted: 0, duplicates: 3 } },
      },
      {
        request: { path: "/alerts?device=pi-a&limit=2" },
        expect: {
          status: 200,
          json: {
            alerts: [alerts.alerts[2], alerts.alerts[1]].map((event) => ({
              ...event,
              device: "pi-a",
              group: "1",
            })),
          },
        },
      },
      {
        request: post("/ingest/alerts", {
          ...alerts,
          alerts: [{ ...alerts.alerts[0], kind: "maybe" }],
        }),
        expect: { status: 422, like: { code: "INGEST_SCHEMA", field: "/alerts/0/kind" } },
      },
    ],
  },
  {
    name: "answers the series, CSV, devices and health routes",
    setup: { nowMs: BASE_MS + 3_600_000 },
    steps: [
      {
        request: ingest(makeBatch("b-1", readings(0, 8)), { gzip: true }),
        expect: { status: 200 },
      },
      {
        request: { path: `/readings/series?gas=co&from=${BASE_MS}&to=${BASE_MS + 8000}&width=2` },
        expect: {
          status: 200,
          json: {
            from: new Date(BASE_MS).toISOString(),
            to: new Date(BASE_MS + 8000).toISOString(),
            bucketMs: 4000,
            buckets: 2,
            lines: [
              {
                ...{ device: "pi-1", group: "2", sensor: "gas0", gas: "co", unit: "ppm" },
                t: [BASE_MS, BASE_MS + 4000],
                min: [0, 0.04],
                max: [0, 0.04],
                avg: [0, 0.04],
                count: [1, 1],
              },
            ],
          },
        },
      },
      {
        request: { path: `/readings.csv?gas=no2&to=${BASE_MS + 6000}` },
        expect: {
          status: 200,
          text:
            "id,device,group,sensor,gas,value,unit,ts,flags\n" +
            "testprefix-r1,pi-1,2,gas0,no2,0.01,ppm,2026-11-26T10:00:01.000Z,\n" +
            "testprefix-r5,pi-1,2,gas0,no2,0.05,ppm,2026-11-26T10:00:05.000Z,\n",
          headers: {
            "content-type": "text/csv; charset=utf-8",
            "content-disposition": 'attachment; filename="readings.csv"',
          },
        },
      },
      {
        request: { path: "/devices?group=2" },
        expect: {
          status: 200,
          like: {
            devices: [
              {
                device: "pi-1",
                group: "2",
                gps: "37.61, 126.99",
                lastReadingAt: new Date(BASE_MS + 7000).toISOString(),
                gases: ["c2h5oh", "co", "h2", "no2"],
              },
            ],
          },
        },
      },
      {
        request: { path: "/readings?gas=co&gas=no2" },
        expect: { status: 400, like: { code: "INGEST_BAD_PARAM", param: "gas" } },
      },
      {
        request: { path: "/healthz" },
        expect: {
          status: 200,
          json: {
            status: "ok",
            store: "sqlite",
            scope: "database",
            readings: 8,
            duplicates: 0,
            batches: 1,
            threshold_reports_malformed: 0,
          },
        },
      },
    ],
  },
  {
    name: "fleet thresholds: a PUT, the desired set, a 304, a report riding an upload, the status",
    setup: { nowMs: BASE_MS + 3_600_000 },
    steps: [
      {
        request: {
          method: "PUT",
          path: "/fleet/thresholds?group=2",
          body: { thresholds: [{ gas: "no2", value: 100, unit: "ppb" }], changed_by: "ops" },
        },
        expect: {
          status: 200,
          json: { scope: "group", name: "2", version: 1, etag: GROUP_2_ETAG },
          headers: { etag: `"${GROUP_2_ETAG}"` },
        },
      },
      {
        request: {
          method: "PUT",
          path: "/fleet/thresholds?group=2",
          body: { thresholds: [{ gas: "no2", value: 100, unit: "mg" }] },
        },
        expect: {
          status: 422,
          like: { code: "INGEST_THRESHOLDS_INVALID", key: "thresholds[0].unit" },
        },
      },
      {
        request: { path: "/fleet/desired?device=pi-1&group=2" },
        expect: {
          status: 200,
          json: {
            device: "pi-1",
            source: "group",
            version: 1,
            etag: GROUP_2_ETAG,
            thresholds: [{ gas: "no2", value: 100, unit: "ppb" }],
          },
          headers: { etag: `"${GROUP_2_ETAG}"`, "cache-control": "no-cache" },
        },
      },
      {
        request: {
          path: "/fleet/desired?device=pi-1&group=2",
          headers: { "if-none-match": `"${GROUP_2_ETAG}"` },
        },
        expect: { status: 304, text: "", headers: { etag: `"${GROUP_2_ETAG}"` } },
      },
      {
        request: post("/ingest", makeBatch("b-1", readings(0, 2)), {
          headers: { "x-sensord-thresholds": `applied;etag="${GROUP_2_ETAG}"` },
        }),
        expect: { status: 200, json: { accepted: 2, duplicates: 0, batchId: "b-1" } },
      },
      {
        request: { path: "/fleet/thresholds/status?group=2" },
        expect: {
          status: 200,
          json: {
            group: "2",
            devices: [
              {
                device: "pi-1",
                group: "2",
                desired_etag: GROUP_2_ETAG,
                reported_etag: GROUP_2_ETAG,
                state: "in_sync",
                reason: null,
                reported_at: new Date(BASE_MS + 3_600_000).toISOString(),
              },
            ],
          },
        },
      },
    ],
    stats: { readings: 2, duplicates: 0, batches: 1 },
  },
];
