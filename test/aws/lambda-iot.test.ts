import { IoTDataPlaneClient, PublishCommand } from "@aws-sdk/client-iot-data-plane";
import type { APIGatewayProxyResult } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AlertBatch } from "../../schemas/alert-batch.js";
import { alertPayload } from "../../schemas/mqtt-alert.js";
import { alertPair } from "../cloud/fleet-fixtures.js";
import { BASE_MS } from "../cloud/helpers.js";
import { LAMBDA_ENV, recordingLogger, useAdapters } from "./adapters.js";
import { proxyEvent } from "./proxy-events.js";

const adapters = useAdapters();
const iot = mockClient(IoTDataPlaneClient);
const IOT_ENV = {
  ...LAMBDA_ENV,
  IOT_DATA_ENDPOINT: "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com",
};

beforeEach(() => {
  iot.reset();
  iot.on(PublishCommand).resolves({});
});
afterEach(() => {
  iot.reset();
});

const batch: AlertBatch = {
  schema: "sensord.alerts.v1",
  device: { id: "pi-a", group: "1", gps: "37.61, 126.99" },
  alerts: [
    ...alertPair("e1", "no2", BASE_MS, 5000),
    ...alertPair("e2", "co", BASE_MS + 9000, null),
  ],
};

function upload(body: AlertBatch) {
  return proxyEvent({
    method: "POST",
    target: "/ingest/alerts",
    headers: { "Content-Type": "application/json" },
    body: Buffer.from(JSON.stringify(body)),
  });
}

/** What was published, the payload bytes as text. */
function published(): Array<{ topic: string | undefined; qos: number | undefined; text: string }> {
  return iot.commandCalls(PublishCommand).map((call) => {
    const { topic, qos, payload } = call.args[0].input;
    const text =
      payload instanceof Uint8Array
        ? Buffer.from(payload).toString("utf8")
        : `not bytes: ${typeof payload}`;
    return { topic, qos, text };
  });
}

const json = (result: APIGatewayProxyResult): unknown => JSON.parse(result.body);

describe("IoT Core warnings (IOT_DATA_ENDPOINT)", () => {
  it("publishes each stored event to pi/<group>, QoS 1, with the relay's payload bytes", async () => {
    const { handler } = await adapters.lambda({ env: IOT_ENV });
    const result = await handler(upload(batch));
    expect([result.statusCode, json(result)]).toEqual([200, { accepted: 3, duplicates: 0 }]);
    const sent = published();
    expect(sent.map(({ topic, qos }) => [topic, qos])).toEqual([
      ["pi/1", 1],
      ["pi/1", 1],
      ["pi/1", 1],
    ]);
    // The relay sends JSON.stringify(alertPayload(event, device)): the same bytes, in the batch's order.
    expect(sent.map((one) => one.text)).toEqual(
      batch.alerts.map((event) => JSON.stringify(alertPayload(event, batch.device))),
    );
    // Spelled out once, so a change to the shared payload shows here too.
    expect(sent[0]?.text).toBe(
      '{"warning":"no2 warning","id":"e1-a","device":"pi-a","group":"1","sensor":"gas0","gas":"no2",' +
        '"value":45,"unit":"ppm","threshold":35,"severity":"warning","ts":"2026-11-26T10:00:00.000Z"}',
    );
    expect(JSON.parse(sent[1]?.text ?? "")).toMatchObject({ cleared: "no2", id: "e1-b" });
  });

  it("publishes nothing again for a retried batch, and only the new events of an overlapping one", async () => {
    const { handler } = await adapters.lambda({ env: IOT_ENV });
    await handler(upload(batch));
    const retried = await handler(upload(batch));
    expect(json(retried)).toEqual({ accepted: 0, duplicates: 3 });
    expect(published()).toHaveLength(3);
    const later = alertPair("e3", "h2", BASE_MS + 20_000, null);
    const overlapping = await handler(
      upload({ ...batch, alerts: [...batch.alerts.slice(1), ...later, ...later] }),
    );
    expect(json(overlapping)).toEqual({ accepted: 1, duplicates: 3 });
    expect(
      published()
        .slice(3)
        .map((one) => JSON.parse(one.text).id),
    ).toEqual(["e3-a"]);
  });

  it("logs and counts a failed publish, and still answers 200 with the events stored", async () => {
    const log = recordingLogger();
    const { handler, store } = await adapters.lambda({ env: IOT_ENV, log });
    iot
      .on(PublishCommand)
      .rejectsOnce(new Error("ForbiddenException: not authorized to publish"))
      .resolvesOnce({})
      .rejectsOnce(new Error("ThrottlingException: rate exceeded"));
    const result = await handler(upload(batch));
    expect([result.statusCode, json(result)]).toEqual([200, { accepted: 3, duplicates: 0 }]);
    expect(iot.commandCalls(PublishCommand)).toHaveLength(3);
    const failures = log.lines.filter((line) => line.includes("ERROR publishing alert event"));
    expect(failures).toEqual([
      expect.stringContaining(
        "publishing alert event e1-a of pi-a to pi/1 failed (1 failed since start; the event is stored, the warning is not sent): ForbiddenException: not authorized to publish",
      ),
      expect.stringContaining("e2-a of pi-a to pi/1 failed (2 failed since start;"),
    ]);
    expect((await store.alerts({ limit: 10 })).map((alert) => alert.id).sort()).toEqual([
      "e1-a",
      "e1-b",
      "e2-a",
    ]);
  });

  it("publishes nothing without IOT_DATA_ENDPOINT", async () => {
    const { handler } = await adapters.lambda();
    expect((await handler(upload(batch))).statusCode).toBe(200);
    expect(iot.commandCalls(PublishCommand)).toHaveLength(0);
  });
});
