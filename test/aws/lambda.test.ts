import { gzipSync } from "node:zlib";
import type { APIGatewayProxyResult } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createLambdaHandler, handler } from "../../cloud/aws/lambda.js";
import { MAX_RESULT_BYTES, toProxyResult } from "../../cloud/aws/proxy-event.js";
import type { CloudStore } from "../../cloud/store/types.js";
import { BASE_MS, makeBatch, originalDocument, readings } from "../cloud/helpers.js";
import { LAMBDA_ENV, recordingLogger, useAdapters } from "./adapters.js";
import { proxyEvent } from "./proxy-events.js";

const adapters = useAdapters();
const json = (result: APIGatewayProxyResult): unknown => JSON.parse(result.body);
const gzipBody = (value: unknown) => gzipSync(Buffer.from(JSON.stringify(value)));

describe("the Lambda handler: API Gateway REST proxy events", () => {
  it("stores a gzip'd batch sent twice exactly once", async () => {
    const { handler, store } = await adapters.lambda();
    const event = proxyEvent({
      method: "POST",
      target: "/ingest",
      headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" },
      body: gzipBody(makeBatch("b-twice", readings(0, 500))),
    });
    expect(event.isBase64Encoded).toBe(true);
    const first = await handler(event);
    const again = await handler(event);
    expect([first.statusCode, json(first)]).toEqual([
      200,
      { accepted: 500, duplicates: 0, batchId: "b-twice" },
    ]);
    expect([again.statusCode, json(again), again.headers?.["idempotent-replayed"]]).toEqual([
      200,
      { accepted: 500, duplicates: 0, batchId: "b-twice" },
      "true",
    ]);
    // Under another key (a device that lost its queue state), the readings are duplicates.
    const rekeyed = await handler(
      proxyEvent({
        method: "POST",
        target: "/ingest",
        headers: { "content-type": "application/json", "idempotency-key": "other" },
        body: Buffer.from(JSON.stringify(makeBatch("b-twice", readings(0, 500)))),
      }),
    );
    expect(json(rekeyed)).toEqual({ accepted: 0, duplicates: 500, batchId: "b-twice" });
    expect(await store.stats()).toEqual({
      readings: 500,
      duplicates: 500,
      batches: 2,
      scope: "database",
    });
  });

  it("reads the original format on /proxyLambda with the client's header case and repeated headers", async () => {
    const { handler, store } = await adapters.lambda();
    const result = await handler(
      proxyEvent({
        method: "POST",
        target: "/proxyLambda",
        headers: {
          "Content-Type": "application/json",
          Index: "gasdetect",
          "X-Timezone": "Asia/Seoul",
          "X-Device-Id": "pi-7",
        },
        body: Buffer.from(JSON.stringify(originalDocument("doc-9"))),
        binary: false,
      }),
    );
    expect([result.statusCode, json(result)]).toEqual([
      200,
      { accepted: 4, duplicates: 0, batchId: "doc-9" },
    ]);
    expect(await store.readings({ gas: "no2", limit: 10 })).toMatchObject([
      { id: "doc-9:no2", device: "pi-7", ts: "2021-09-03T09:14:49.000Z" },
    ]);
    // Two content-encoding values join as "gzip, br", which the core refuses as Node's server does.
    const twice = await handler(
      proxyEvent({
        method: "POST",
        target: "/ingest",
        headers: { "content-type": "application/json", "Content-Encoding": ["gzip", "br"] },
        body: gzipBody(makeBatch("b", readings(0, 1))),
      }),
    );
    expect([twice.statusCode, json(twice)]).toMatchObject([415, { header: "content-encoding" }]);
  });

  it("routes by the API's resource: a greedy proxy resource and a custom domain's base path", async () => {
    const { handler } = await adapters.lambda();
    const body = Buffer.from(JSON.stringify(makeBatch("b-1", readings(0, 2))));
    const headers = { "content-type": "application/json" };
    const viaProxy = await handler(
      proxyEvent({ method: "POST", target: "/ingest", resource: "/{proxy+}", headers, body }),
    );
    expect([viaProxy.statusCode, json(viaProxy)]).toEqual([
      200,
      { accepted: 2, duplicates: 0, batchId: "b-1" },
    ]);
    // A custom domain mapped at /v1 puts the base path in event.path, not in the resource.
    const mapped = proxyEvent({
      method: "GET",
      target: "/v1/readings?gas=co",
      resource: "/readings",
    });
    expect(mapped.path).toBe("/v1/readings");
    const listed = await handler(mapped);
    expect([listed.statusCode, json(listed)]).toMatchObject([
      200,
      { readings: [{ id: "testprefix-r0" }] },
    ]);
  });

  it("passes every value of a repeated query parameter, so the core refuses the repeat", async () => {
    const { handler } = await adapters.lambda();
    const result = await handler(proxyEvent({ method: "GET", target: "/readings?gas=co&gas=no2" }));
    expect([result.statusCode, json(result)]).toMatchObject([
      400,
      { code: "INGEST_BAD_PARAM", param: "gas" },
    ]);
  });

  it("answers 400 to gzip that API Gateway decoded as text (application/json missing from binary media types)", async () => {
    const { handler, store } = await adapters.lambda();
    const gzipped = gzipBody(makeBatch("b", readings(0, 3)));
    // What API Gateway hands over when it does not treat the type as binary: the bytes as UTF-8 text.
    const mangled = proxyEvent({
      method: "POST",
      target: "/ingest",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: Buffer.from(gzipped.toString("utf8")),
      binary: false,
    });
    const result = await handler(mangled);
    expect([result.statusCode, json(result)]).toMatchObject([400, { code: "INGEST_BAD_GZIP" }]);
    expect(await store.stats()).toMatchObject({ readings: 0 });
  });

  it("answers text as UTF-8, not base64, whatever the client accepts", async () => {
    const { handler } = await adapters.lambda();
    const name = "pi-Ωmega-센서";
    await handler(
      proxyEvent({
        method: "POST",
        target: "/ingest",
        headers: { "content-type": "application/json" },
        body: Buffer.from(
          JSON.stringify(makeBatch("b-1", readings(0, 1), { id: name, group: "2" })),
        ),
      }),
    );
    const csv = await handler(proxyEvent({ method: "GET", target: "/readings.csv" }));
    expect(csv.isBase64Encoded).toBe(false);
    expect(csv.body.split("\n")[1]).toBe(
      `testprefix-r0,${name},2,gas0,co,0,ppm,${new Date(BASE_MS).toISOString()},`,
    );
  });

  it("builds the store once per container and logs one line per request with the request id", async () => {
    const log = recordingLogger();
    const { store } = await adapters.lambda();
    let opened = 0;
    const handler = createLambdaHandler({
      env: LAMBDA_ENV,
      log,
      openStore: async () => {
        opened += 1;
        return store;
      },
    });
    for (let i = 0; i < 3; i++) await handler(proxyEvent({ method: "GET", target: "/healthz" }));
    expect(opened).toBe(1);
    await handler(proxyEvent({ method: "GET", target: "/nope" }));
    expect(log.lines.filter((line) => line.includes("GET /healthz 200"))).toHaveLength(3);
    expect(log.lines.at(-1)).toMatch(
      /WARN {2}GET \/nope 404 [\d.]+ ms \[c6af9ac6-7b61-11e6-9a41-93e8deadbeef\]: no such endpoint: \/nope/,
    );
  });

  it("answers 503 with Retry-After when the store cannot be opened, and tries again on the next request", async () => {
    const log = recordingLogger();
    const { store } = await adapters.lambda();
    let attempts = 0;
    const handler = createLambdaHandler({
      env: LAMBDA_ENV,
      log,
      openStore: async (): Promise<CloudStore> => {
        attempts += 1;
        if (attempts === 1) throw new Error("getaddrinfo ENOTFOUND vpc-sensord-test");
        return store;
      },
    });
    const failed = await handler(proxyEvent({ method: "GET", target: "/healthz" }));
    expect([failed.statusCode, failed.headers?.["retry-after"], json(failed)]).toEqual([
      503,
      "30",
      {
        error: "the store is unavailable; retry later",
        code: "INGEST_STORE_UNAVAILABLE",
        retryAfter: 30,
      },
    ]);
    expect(log.lines.join("")).toContain(
      "could not open the store (retried on the next request): getaddrinfo ENOTFOUND vpc-sensord-test",
    );
    expect((await handler(proxyEvent({ method: "GET", target: "/healthz" }))).statusCode).toBe(200);
    expect(attempts).toBe(2);
  });
});

describe("a store failing while a CSV is read", () => {
  it("answers 500 instead of a cut-off CSV, and logs why", async () => {
    const log = recordingLogger();
    const { store } = await adapters.lambda();
    const failing = new Proxy(store, {
      get(target, name, receiver) {
        if (name !== "csv") return Reflect.get(target, name, receiver);
        return async function* () {
          yield [];
          throw new Error("SQLITE_IOERR: disk I/O error");
        };
      },
    });
    const handler = createLambdaHandler({ env: LAMBDA_ENV, log, openStore: async () => failing });
    const result = await handler(proxyEvent({ method: "GET", target: "/readings.csv" }));
    expect([result.statusCode, json(result)]).toEqual([
      500,
      { error: "internal error", code: "INGEST_INTERNAL" },
    ]);
    expect(log.lines.join("")).toContain(
      "GET /readings.csv failed while reading its answer: SQLITE_IOERR: disk I/O error",
    );
  });
});

describe("CORS_ALLOW_ORIGIN", () => {
  const ORIGIN = "https://d111111abcdef8.cloudfront.net";

  it("puts the dashboard's origin on every answer, refusals and CSV included", async () => {
    const { handler } = await adapters.lambda({
      env: { ...LAMBDA_ENV, CORS_ALLOW_ORIGIN: ORIGIN },
    });
    const answers = [
      await handler(proxyEvent({ method: "GET", target: "/devices" })),
      await handler(proxyEvent({ method: "GET", target: "/readings.csv" })),
      await handler(proxyEvent({ method: "GET", target: "/nope" })),
      await handler(
        proxyEvent({
          method: "POST",
          target: "/ingest",
          headers: { "content-type": "text/plain" },
          body: Buffer.from("{}"),
        }),
      ),
      await handler(
        proxyEvent({
          method: "POST",
          target: "/ingest/alerts",
          headers: { "content-type": "application/json" },
          body: Buffer.from("{}"),
        }),
      ),
    ];
    expect(
      answers.map((answer) => [
        answer.statusCode,
        answer.headers?.["access-control-allow-origin"],
        answer.headers?.vary,
      ]),
    ).toEqual([
      [200, ORIGIN, "origin"],
      [200, ORIGIN, "origin"],
      [404, ORIGIN, "origin"],
      [415, ORIGIN, "origin"],
      [422, ORIGIN, "origin"],
    ]);
  });

  it("sends no CORS header when unset", async () => {
    const { handler } = await adapters.lambda();
    const answer = await handler(proxyEvent({ method: "GET", target: "/devices" }));
    expect(answer.headers).not.toHaveProperty("access-control-allow-origin");
    expect(answer.headers).not.toHaveProperty("vary");
  });
});

describe("answers past what a Lambda can return", () => {
  it("answers 422 naming the fix for a /readings answer over 6 MB, and streams a CSV under it whole", async () => {
    const { handler, store } = await adapters.lambda();
    // ~200 bytes a reading as JSON: 40,000 readings are ~8 MB as JSON, ~3 MB as CSV.
    const rows = readings(0, 40_000).map((one) => ({
      id: one.id,
      sensor: one.sensor,
      gas: one.gas,
      value: one.value,
      unit: one.unit,
      ts: Date.parse(one.ts),
      flags: "",
      sensorId: "",
      sensorType: "",
    }));
    await store.ingest(
      {
        format: "batch",
        batchId: "big",
        device: "pi-1",
        group: "2",
        gps: "",
        indexName: null,
        rows,
      },
      null,
      BASE_MS,
    );
    const tooLarge = await handler(proxyEvent({ method: "GET", target: "/readings?limit=100000" }));
    expect([tooLarge.statusCode, json(tooLarge)]).toEqual([
      422,
      {
        error:
          "the answer exceeds 6128KiB, the most a Lambda behind API Gateway can return: narrow the query (from/to, device, group or gas) or lower limit, or query a sensord-ingest server, which streams",
        code: "INGEST_ANSWER_TOO_LARGE",
        limit: MAX_RESULT_BYTES,
      },
    ]);
    const page = await handler(proxyEvent({ method: "GET", target: "/readings?limit=1000" }));
    expect((json(page) as { readings: unknown[] }).readings).toHaveLength(1000);
    const csv = await handler(proxyEvent({ method: "GET", target: "/readings.csv" }));
    expect(csv.statusCode).toBe(200);
    expect(csv.body.split("\n")).toHaveLength(40_002);
    expect(Buffer.byteLength(JSON.stringify(csv))).toBeLessThanOrEqual(MAX_RESULT_BYTES);
  });

  it("stops pulling a CSV once it passes the cap, releasing the store's cursor", async () => {
    let pulled = 0;
    let released = false;
    async function* endless(): AsyncGenerator<string> {
      try {
        for (;;) {
          pulled += 1;
          yield "x".repeat(1000);
        }
      } finally {
        released = true;
      }
    }
    const result = await toProxyResult(
      { status: 200, headers: { "content-type": "text/csv; charset=utf-8" }, body: endless() },
      { corsAllowOrigin: null, maxResultBytes: 10_000 },
    );
    expect([result.statusCode, json(result)]).toMatchObject([
      422,
      { code: "INGEST_ANSWER_TOO_LARGE", limit: 10_000 },
    ]);
    expect(pulled).toBe(11);
    expect(released).toBe(true);
  });
});

describe("configuration from the environment", () => {
  const cases: Array<[string, Record<string, string>, string, string]> = [
    ["no OPENSEARCH_ENDPOINT", { AWS_REGION: "eu-west-1" }, "OPENSEARCH_ENDPOINT", "not set"],
    [
      "an OPENSEARCH_ENDPOINT that is no http(s) URL",
      { ...LAMBDA_ENV, OPENSEARCH_ENDPOINT: "vpc-sensord.es.amazonaws.com" },
      "OPENSEARCH_ENDPOINT",
      "is not an https:// (or local http://) URL",
    ],
    [
      "no AWS_REGION",
      { OPENSEARCH_ENDPOINT: LAMBDA_ENV.OPENSEARCH_ENDPOINT },
      "AWS_REGION",
      "not set",
    ],
    [
      "an index prefix OpenSearch refuses",
      { ...LAMBDA_ENV, OPENSEARCH_INDEX_PREFIX: "Sensord" },
      "OPENSEARCH_INDEX_PREFIX",
      "lower-case letters",
    ],
    [
      "a CORS origin with a path",
      { ...LAMBDA_ENV, CORS_ALLOW_ORIGIN: "https://d111111abcdef8.cloudfront.net/" },
      "CORS_ALLOW_ORIGIN",
      "is not an origin",
    ],
    [
      "an IoT endpoint over http",
      { ...LAMBDA_ENV, IOT_DATA_ENDPOINT: "http://a1b2-ats.iot.eu-west-1.amazonaws.com" },
      "IOT_DATA_ENDPOINT",
      "is not a host name or https:// URL",
    ],
    [
      "a MAX_BODY_BYTES that is no number",
      { ...LAMBDA_ENV, MAX_BODY_BYTES: "8MiB" },
      "MAX_BODY_BYTES",
      "is not a positive whole number of bytes",
    ],
  ];

  it.each(cases)(
    "answers 500 naming the variable for %s, and logs it",
    async (_what, env, variable, words) => {
      const log = recordingLogger();
      let opened = 0;
      const handler = createLambdaHandler({
        env,
        log,
        openStore: async () => {
          opened += 1;
          throw new Error("not reached");
        },
      });
      for (let i = 0; i < 2; i++) {
        const result = await handler(proxyEvent({ method: "GET", target: "/healthz" }));
        expect(result.statusCode).toBe(500);
        const body = json(result) as { error: string; code: string; variable: string };
        expect([body.code, body.variable]).toEqual(["INGEST_CONFIG", variable]);
        expect(body.error).toContain(`the function is misconfigured: ${variable}: `);
        expect(body.error).toContain(words);
      }
      expect(opened).toBe(0);
      expect(log.lines[0]).toContain(
        `ERROR configuration error, set ${variable} on the function: ${variable}: `,
      );
    },
  );

  it("the exported handler reads process.env (here without OPENSEARCH_ENDPOINT)", async () => {
    expect(process.env.OPENSEARCH_ENDPOINT).toBeUndefined();
    const result = await handler(proxyEvent({ method: "GET", target: "/healthz" }));
    expect([result.statusCode, (json(result) as { variable: string }).variable]).toEqual([
      500,
      "OPENSEARCH_ENDPOINT",
    ]);
  });
});
