import { request } from "node:http";
import { describe, expect, it } from "vitest";
import {
  get,
  makeBatch,
  originalDocument,
  post,
  reading,
  readings,
  useIngestServer,
} from "./helpers.js";

const start = useIngestServer();

/** A POST through node:http, which (unlike fetch) lets a test set Host. */
function rawPost(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown>; headers: Record<string, unknown> }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const upload = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: "POST",
        headers,
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            json: JSON.parse(text),
            headers: response.headers,
          }),
        );
      },
    );
    upload.on("error", reject);
    upload.end(body);
  });
}

function rawGet(url: string, headers: Record<string, string>): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, headers },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    )
      .on("error", reject)
      .end();
  });
}

describe("content-type on POST", () => {
  it("answers 415 to text/plain, a form, a missing type and a charset other than utf-8, and stores nothing", async () => {
    const server = await start();
    const body = JSON.stringify(makeBatch("b-1", readings(0, 3)));
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=latin1",
      "application/jsonx",
    ]) {
      const result = await rawPost(`${server.url}/ingest`, body, { "content-type": type });
      expect([type, result.status, result.json.code, result.json.header]).toEqual([
        type,
        415,
        "INGEST_CONTENT_TYPE",
        "content-type",
      ]);
    }
    const missing = await rawPost(`${server.url}/ingest`, body, {});
    expect(missing.status).toBe(415);
    expect(missing.json.error).toBe(
      'content-type is missing: send "application/json" (charset utf-8 if any)',
    );
    const alerts = await rawPost(`${server.url}/ingest/alerts`, "{}", {
      "content-type": "text/plain",
    });
    expect(alerts.status).toBe(415);
    expect(await server.stats()).toEqual({
      readings: 0,
      duplicates: 0,
      batches: 0,
      scope: "database",
    });
  });

  it("accepts application/json with or without charset=utf-8, in any case", async () => {
    const server = await start();
    for (const [index, type] of [
      "application/json",
      "Application/JSON; charset=UTF-8",
      'application/json;charset="utf-8"',
    ].entries()) {
      const result = await rawPost(
        `${server.url}/ingest`,
        JSON.stringify(makeBatch(`b-${index}`, [reading(index)])),
        { "content-type": type },
      );
      expect([type, result.status]).toEqual([type, 200]);
    }
  });
});

describe("Host without an API key (DNS rebinding)", () => {
  const batch = (id: string) => JSON.stringify(makeBatch(id, readings(0, 2)));
  const json = { "content-type": "application/json" };

  it("serves loopback names and the listen address, refuses any other host with 421, and keeps /healthz open", async () => {
    const server = await start();
    const port = new URL(server.url).port;
    const refused = await rawPost(`${server.url}/ingest`, batch("x"), {
      ...json,
      host: `attacker.example:${port}`,
    });
    expect(refused.status).toBe(421);
    expect(refused.json).toMatchObject({ code: "INGEST_HOST_NOT_ALLOWED", header: "host" });
    expect(String(refused.json.error)).toContain("--allowed-host");
    expect(await rawGet(`${server.url}/readings.csv`, { host: "attacker.example" })).toBe(421);
    expect(await rawGet(`${server.url}/healthz`, { host: "attacker.example" })).toBe(200);
    expect(await server.stats()).toMatchObject({ readings: 0 });
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      "127.8.0.1",
      "[::1]:80",
      "LOCALHOST",
    ]) {
      expect([host, await rawGet(`${server.url}/devices`, { host })]).toEqual([host, 200]);
    }
  });

  it("serves the names given with allowedHosts (--allowed-host)", async () => {
    const server = await start({ allowedHosts: ["ingest.lab.example"] });
    const result = await rawPost(`${server.url}/ingest`, batch("y"), {
      ...json,
      host: "Ingest.Lab.Example:8787",
    });
    expect(result.status).toBe(200);
    expect(await rawGet(`${server.url}/devices`, { host: "other.lab.example" })).toBe(421);
  });

  it("serves any host once an API key is required", async () => {
    const server = await start({ apiKey: "k-123" });
    const result = await rawPost(`${server.url}/ingest`, batch("z"), {
      ...json,
      host: "ingest.example.org",
      "x-api-key": "k-123",
    });
    expect(result.status).toBe(200);
  });
});

describe("length and character limits", () => {
  const cases: Array<[string, (batch: ReturnType<typeof makeBatch>) => void, string]> = [
    [
      "a 65-character device id",
      (b) => {
        b.device.id = "d".repeat(65);
      },
      "/device/id",
    ],
    [
      "a 65-character group",
      (b) => {
        b.device.group = "g".repeat(65);
      },
      "/device/group",
    ],
    [
      "a device id with a newline",
      (b) => {
        b.device.id = "pi\n1";
      },
      "/device/id",
    ],
    [
      "a 129-character reading id",
      (b) => {
        (b.readings[1] ?? reading(0)).id = "r".repeat(129);
      },
      "/readings/1/id",
    ],
    [
      "an empty reading id",
      (b) => {
        (b.readings[2] ?? reading(0)).id = "";
      },
      "/readings/2/id",
    ],
    [
      "a reading id with a NUL",
      (b) => {
        (b.readings[0] ?? reading(0)).id = "r\u0000";
      },
      "/readings/0/id",
    ],
    [
      "a reading id with DEL",
      (b) => {
        (b.readings[0] ?? reading(0)).id = "r\u007f";
      },
      "/readings/0/id",
    ],
  ];
  it.each(cases)(
    "answers 422 naming the field for %s, storing nothing",
    async (_name, spoil, field) => {
      const server = await start();
      const batch = makeBatch("b-1", readings(0, 3));
      spoil(batch);
      const result = await post(server.url, batch);
      expect(result.status).toBe(422);
      expect(result.json).toMatchObject({ code: "INGEST_SCHEMA", field });
      expect(await server.stats()).toMatchObject({ readings: 0, batches: 0 });
    },
  );

  it("accepts the longest allowed names (64 and 128 characters)", async () => {
    const server = await start();
    const batch = makeBatch("b-1", [reading(0, { id: "r".repeat(128) })], {
      id: "d".repeat(64),
      group: "g".repeat(64),
    });
    expect((await post(server.url, batch)).json).toMatchObject({ accepted: 1 });
  });
});

describe("reading times", () => {
  const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

  it("answers 422 naming the reading for an impossible calendar date", async () => {
    const server = await start({ now: () => NOW });
    for (const ts of [
      "2026-02-30T00:00:00.000Z",
      "2026-04-31T10:00:00.000Z",
      "2026-11-26T24:00:00.000Z",
      "2025-02-29T00:00:00.000Z",
    ]) {
      const result = await post(server.url, makeBatch(`b-${ts}`, [reading(0), reading(1, { ts })]));
      expect([ts, result.status, (result.json as { field?: string }).field]).toEqual([
        ts,
        422,
        "/readings/1/ts",
      ]);
    }
    // 2024 is a leap year.
    const leap = await post(
      server.url,
      makeBatch("leap", [reading(2, { ts: "2024-02-29T23:59:59.999Z" })]),
    );
    expect(leap.status).toBe(200);
  });

  it("answers 422 for a time before 2000 or more than a day ahead of the server's clock, and accepts one just inside", async () => {
    const server = await start({ now: () => NOW });
    const early = await post(
      server.url,
      makeBatch("e", [reading(0, { ts: "1999-12-31T23:59:59.999Z" })]),
    );
    expect(early.status).toBe(422);
    expect(early.json).toMatchObject({
      field: "/readings/0/ts",
      error: "/readings/0/ts: Expected a time after 2000-01-01 (was the device clock set?)",
    });
    const ahead = await post(
      server.url,
      makeBatch("a", [reading(0), reading(1, { ts: new Date(NOW + 86_400_001).toISOString() })]),
    );
    expect(ahead.status).toBe(422);
    expect(ahead.json).toMatchObject({
      field: "/readings/1/ts",
      error:
        "/readings/1/ts: Expected a time at most a day ahead of the server's clock (2026-12-04T12:00:00.000Z)",
    });
    expect(await server.stats()).toMatchObject({ readings: 0 });
    const inside = await post(
      server.url,
      makeBatch("i", [
        reading(0, { ts: "2000-01-01T00:00:00.000Z" }),
        reading(1, { ts: new Date(NOW + 86_400_000).toISOString() }),
      ]),
    );
    expect(inside.json).toMatchObject({ accepted: 2 });
  });

  it("refuses an original document whose createdtime is before 2000", async () => {
    const server = await start({ now: () => NOW });
    const document = originalDocument("doc-old", { no2: { createdtime: "1970-01-01 00:00:07" } });
    const result = await post(server.url, document, { headers: { index: "gasdetect" } });
    expect(result.status).toBe(422);
    expect(result.json).toMatchObject({ field: "/no2/createdtime" });
  });

  it("never shows a reading more than a day ahead as a device's last reading", async () => {
    const server = await start({ now: () => NOW + 3 * 86_400_000 });
    // Accepted by a server whose clock was 3 days ahead, as old databases may hold such readings.
    await post(
      server.url,
      makeBatch("f", [
        reading(0, { ts: new Date(NOW + 2 * 86_400_000).toISOString() }),
        reading(1, { ts: new Date(NOW - 60_000).toISOString() }),
      ]),
    );
    const { dbPath } = server;
    await server.close();
    const later = await start({ now: () => NOW, reuseDbPath: dbPath });
    const devices = (await get(later.url, "/devices")).json as {
      devices: Array<{ lastReadingAt: string }>;
    };
    expect(devices.devices.map((device) => device.lastReadingAt)).toEqual([
      new Date(NOW - 60_000).toISOString(),
    ]);
  });
});

describe("request bodies held at once (--max-inflight-bytes)", () => {
  /** Starts an upload that sends its head and `sent` bytes of a `length`-byte body, then waits. */
  function slowUpload(url: string, body: Buffer, sent: number) {
    const target = new URL(`${url}/ingest`);
    let finish: () => void = () => {};
    const abort: () => void = () => {};
    const answer = new Promise<{
      status: number;
      json: Record<string, unknown>;
      retryAfter: string | undefined;
    }>((resolve, reject) => {
      const upload = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": body.length },
        },
        (response) => {
          let text = "";
          response.on("data", (chunk: Buffer) => {
            text += chunk.toString();
          });
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              json: JSON.parse(text),
              retryAfter: response.headers["retry-after"] as string | undefined,
            }),
          );
        },
      );
      upload.on("error", reject);
      upload.write(body.subarray(0, sent));
      finish = () => upload.end(body.subarray(sent));
    });
    return { answer, finish: () => finish(), abort: () => abort() };
  }

  it("answers 503 with Retry-After past the cap, before the body is sent, and serves the admitted uploads", async () => {
    const server = await start({ maxBody: 300_000, maxInflightBytes: 600_000 });
    const body = (id: string) => {
      const batch = makeBatch(id, readings(Number(id.slice(1)) * 1000, 1000));
      // Padding after the JSON: whitespace keeps it valid and makes each upload ~250 kB.
      return Buffer.from(JSON.stringify(batch).padEnd(250_000, " "));
    };
    const first = slowUpload(server.url, body("b1"), 1000);
    const second = slowUpload(server.url, body("b2"), 1000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const third = slowUpload(server.url, body("b3"), 1000);
    const refused = await third.answer;
    third.abort();
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe("2");
    expect(refused.json).toMatchObject({ code: "INGEST_BUSY", retryAfter: 2 });
    first.finish();
    second.finish();
    expect((await first.answer).json).toMatchObject({ accepted: 1000 });
    expect((await second.answer).json).toMatchObject({ accepted: 1000 });
    // Their bytes are given back: the same upload now fits.
    const again = slowUpload(server.url, body("b3"), 0);
    again.finish();
    expect((await again.answer).json).toMatchObject({ accepted: 1000 });
  });
});
