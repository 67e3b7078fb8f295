import { gunzipSync } from "node:zlib";
import { Value } from "@sinclair/typebox/value";
import { describe, expect, it } from "vitest";
import { VERSION } from "../../core/version.js";
import { Batch, type BatchDevice, type BatchReading } from "../../schemas/batch.js";
import {
  BATCH_ID_LENGTH,
  batchEnvelopeBytes,
  batchId,
  batchJson,
  chunkReadings,
  encodeBody,
  GZIP_MIN_BYTES,
  splitInHalf,
  uploadHeaders,
} from "../../sync/batch.js";

const device: BatchDevice = {
  id: "pi-lab-07",
  group: "2",
  gps: "37.61002501514269, 126.99636868892937",
};
const GASES = ["co", "no2", "c2h5oh", "h2"] as const;

function reading(seq: number, extra: Partial<BatchReading> = {}): BatchReading {
  const gas = GASES[seq % 4] ?? "co";
  return {
    id: `k3jd7fq2ma-r${seq.toString(36)}`,
    sensor: "gas0",
    gas,
    value: 26 + (seq % 97) / 7,
    unit: gas === "no2" ? "ppb" : "ppm",
    ts: new Date(Date.UTC(2026, 2, 1) + Math.floor(seq / 4) * 1000).toISOString(),
    flags: seq % 11 === 0 ? ["warmup"] : [],
    ...extra,
  };
}

/** A queued reading as the queue hands it over: id and JSON alongside the object. */
function queued(seq: number, value: BatchReading = reading(seq)) {
  const json = JSON.stringify(value);
  return { seq, id: value.id, json, bytes: Buffer.byteLength(json), reading: value };
}

const items = (count: number, from = 1) =>
  Array.from({ length: count }, (_, i) => queued(from + i));

/** The batch text for these readings, as the worker sends it. */
const batchText = (to: BatchDevice, readings: BatchReading[]) =>
  batchJson(
    to,
    readings.map((value, index) => queued(index + 1, value)),
  ).json;

const byteLength = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const textBytes = (to: BatchDevice, readings: BatchReading[]) =>
  Buffer.byteLength(batchText(to, readings));

describe("batchId", () => {
  const ids = ["k3jd7fq2ma-r1", "k3jd7fq2ma-r2", "k3jd7fq2ma-r3"];

  it("is deterministic, base64url and 22 characters", () => {
    expect(batchId("pi-lab-07", ids)).toBe(batchId("pi-lab-07", [...ids]));
    expect(batchId("pi-lab-07", ids)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(BATCH_ID_LENGTH).toBe(22);
  });

  it("never changes between versions (a batch re-sent after an upgrade keeps its key)", () => {
    // = base64url(sha256("sensord.batch.v1\n" + "9:pi-lab-07" + "13:k3jd7fq2ma-r1" + ...)[0..16]), checked with sha256sum.
    expect(batchId("pi-lab-07", ids)).toBe("qe23SI6Dy6Yr_L50eIOGpA");
  });

  it("changes with the device, any id, the order and the split between parts", () => {
    const base = batchId("pi-lab-07", ids);
    const variants = [
      batchId("pi-lab-08", ids),
      batchId("pi-lab-07", ["k3jd7fq2ma-r1", "k3jd7fq2ma-r2", "k3jd7fq2ma-r4"]),
      batchId("pi-lab-07", [...ids].reverse()),
      batchId("pi-lab-07", ids.slice(0, 2)),
      batchId("pi-lab-07", ["k3jd7fq2ma-r1k3jd7fq2ma-r2", "k3jd7fq2ma-r3"]),
      batchId("pi-lab-07k3jd7fq2ma-r1", ids.slice(1)),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });
});

describe("batchJson", () => {
  it("builds a schema-valid batch whose id comes from its readings", () => {
    const readings = items(5).map((item) => item.reading);
    const { batchId: id, json } = batchJson(device, items(5));
    const batch: unknown = JSON.parse(json);
    expect(Value.Errors(Batch, batch).First()).toBeUndefined();
    expect(id).toBe(
      batchId(
        device.id,
        readings.map((r) => r.id),
      ),
    );
    expect(batch).toEqual({ schema: "sensord.batch.v1", device, batchId: id, readings });
  });

  it("is exactly the text JSON.stringify gives for the batch object, key order included", () => {
    const readings = [
      reading(1),
      reading(2, { sensorId: 'sensor "0006"\n\u00e9', sensorType: "9", flags: ["warmup"] }),
      reading(3, { value: -0.5 }),
    ];
    const { batchId: id, json } = batchJson(
      device,
      readings.map((value, index) => queued(index + 1, value)),
    );
    expect(json).toBe(
      JSON.stringify({ schema: "sensord.batch.v1", device, batchId: id, readings }),
    );
  });

  it("leaves gps out when the device has none and ignores extra device keys", () => {
    const loose = { id: "pi", group: "g", extra: 1 } as BatchDevice;
    const batch = JSON.parse(batchText(loose, [reading(1)])) as Batch;
    expect(batch.device).toEqual({ id: "pi", group: "g" });
    expect(Value.Check(Batch, batch)).toBe(true);
  });
});

describe("chunkReadings", () => {
  it("cuts by count into consecutive chunks", () => {
    const input = items(10);
    const chunks = chunkReadings(input, 3, 1_000_000);
    expect(chunks.map((chunk) => chunk.length)).toEqual([3, 3, 3, 1]);
    expect(chunks.flat()).toEqual(input);
  });

  it("never lets a batch's JSON exceed maxBytes, and fills each chunk as far as it can", () => {
    // Varied sizes, including multi-byte characters (bytes, not characters, count).
    const input = items(300).map((item, i) =>
      queued(item.seq, {
        ...item.reading,
        sensorId: "é".repeat(i % 13),
        sensorType: String(i % 31),
      }),
    );
    const envelope = batchEnvelopeBytes(device);
    for (const maxBytes of [600, 1000, 1500, 4096, 10_000, 50_000]) {
      const chunks = chunkReadings(input, 1000, maxBytes, envelope);
      expect(chunks.flat()).toEqual(input);
      let next = 0;
      for (const chunk of chunks) {
        const readings = chunk.map((item) => item.reading);
        const size = textBytes(device, readings);
        expect(size).toBeLessThanOrEqual(maxBytes);
        next += chunk.length;
        const following = input[next];
        // Maximal: one more reading would not have fitted.
        if (following !== undefined) {
          expect(textBytes(device, [...readings, following.reading])).toBeGreaterThan(maxBytes);
        }
      }
    }
  });

  it("computes the envelope exactly", () => {
    const one = [reading(1)];
    expect(textBytes(device, one)).toBe(batchEnvelopeBytes(device) + byteLength(one[0]));
    const plain: BatchDevice = { id: "x", group: "" };
    expect(textBytes(plain, one)).toBe(batchEnvelopeBytes(plain) + byteLength(one[0]));
  });

  it("stays within maxBytes with the default envelope allowance for an ordinary device", () => {
    for (const chunk of chunkReadings(items(200), 1000, 3000)) {
      expect(
        textBytes(
          device,
          chunk.map((item) => item.reading),
        ),
      ).toBeLessThanOrEqual(3000);
    }
  });

  it("sends a reading larger than maxBytes alone instead of blocking the queue", () => {
    const huge = queued(99, reading(99, { sensorId: "x".repeat(5000) }));
    const input = [...items(3), huge, ...items(3, 100)];
    const chunks = chunkReadings(input, 100, 2000, batchEnvelopeBytes(device));
    expect(chunks).toContainEqual([huge]);
    expect(chunks.flat()).toEqual(input);
  });

  it("returns no chunks for no readings and rejects a zero count", async () => {
    expect(chunkReadings([], 10, 1000)).toEqual([]);
    expect(() => chunkReadings(items(1), 0, 1000)).toThrow(RangeError);
  });
});

describe("encodeBody", () => {
  it("sends small bodies plain even when compression is on", async () => {
    const { body, headers } = await encodeBody('{"a":1}', true);
    expect(headers).toEqual({ "content-type": "application/json" });
    expect(body.toString()).toBe('{"a":1}');
  });

  it("gzips bodies over 1 KiB and they round-trip", async () => {
    const json = batchText(
      device,
      items(50).map((item) => item.reading),
    );
    const { body, headers } = await encodeBody(json, true);
    expect(headers).toEqual({ "content-type": "application/json", "content-encoding": "gzip" });
    expect(gunzipSync(body).toString()).toBe(json);
    expect(body.length).toBeLessThan(Buffer.byteLength(json) / 3);
  });

  it("treats exactly 1 KiB as small and 1 KiB + 1 as large", async () => {
    expect(
      (await encodeBody("x".repeat(GZIP_MIN_BYTES), true)).headers["content-encoding"],
    ).toBeUndefined();
    expect(
      (await encodeBody("x".repeat(GZIP_MIN_BYTES + 1), true)).headers["content-encoding"],
    ).toBe("gzip");
  });

  it("never compresses when compression is off", async () => {
    const { body, headers } = await encodeBody("x".repeat(10_000), false);
    expect(headers["content-encoding"]).toBeUndefined();
    expect(body.length).toBe(10_000);
  });
});

describe("splitInHalf", () => {
  it("splits into two non-empty halves, the first taking the odd one", () => {
    expect(splitInHalf([1, 2, 3, 4, 5])).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(splitInHalf([1, 2])).toEqual([[1], [2]]);
  });

  it("cannot split one item or none", () => {
    expect(splitInHalf([1])).toBeNull();
    expect(splitInHalf([])).toBeNull();
  });
});

describe("uploadHeaders", () => {
  it("carries the contract's headers and only those configured", async () => {
    const content = (await encodeBody("x".repeat(2000), true)).headers;
    expect(
      uploadHeaders({
        idempotencyKey: "abc",
        index: "gasdetect",
        apiKey: "k",
        contentHeaders: content,
      }),
    ).toEqual({
      "content-type": "application/json",
      "content-encoding": "gzip",
      "idempotency-key": "abc",
      index: "gasdetect",
      "x-api-key": "k",
      "user-agent": `sensord/${VERSION}`,
    });
    expect(
      uploadHeaders({
        idempotencyKey: "abc",
        index: null,
        contentHeaders: { "content-type": "application/json" },
      }),
    ).toEqual({
      "content-type": "application/json",
      "idempotency-key": "abc",
      "user-agent": `sensord/${VERSION}`,
    });
  });
});

describe("chunkReadings with free text that JSON escapes", () => {
  it("never exceeds maxBytes near the limit", () => {
    const escaped = 'sensor "0006"\n\u00e9\u0001';
    for (const count of [1, 10, 100, 1000]) {
      const batch = Array.from({ length: count }, (_, index) =>
        queued(
          index + 1,
          reading(index + 1, {
            sensorId: escaped,
            sensorType: escaped,
            flags: ["warmup", "out_of_range"],
          }),
        ),
      );
      const exact = textBytes(
        device,
        batch.map((item) => item.reading),
      );
      for (const maxBytes of [exact - 1, exact, exact + 1, exact * 2]) {
        const chunks = chunkReadings(batch, 1000, maxBytes, batchEnvelopeBytes(device));
        expect(chunks.flat()).toEqual(batch);
        for (const chunk of chunks) {
          if (chunk.length > 1) {
            expect(
              textBytes(
                device,
                chunk.map((item) => item.reading),
              ),
            ).toBeLessThanOrEqual(maxBytes);
          }
        }
        // Exactly at or above the whole batch's size, it goes as one chunk.
        if (maxBytes >= exact) expect(chunks).toHaveLength(1);
      }
    }
  });
});
