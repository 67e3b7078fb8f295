import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { describe, expect, it } from "vitest";
import { AlertEvent } from "../schemas/alert.js";
import { jsonSchemas, renderSchema } from "../schemas/export.js";
import { Reading } from "../schemas/reading.js";
import { ROOT } from "./support/processes.js";

describe("exported JSON Schemas", () => {
  it.each(Object.entries(jsonSchemas()))(
    "schemas/json/%s is up to date (run npm run schemas)",
    (name, schema) => {
      expect(readFileSync(join(ROOT, "schemas/json", name), "utf8")).toBe(renderSchema(schema));
    },
  );

  it("accept a reading and an alert as sensorctl prints them, and reject a malformed one", () => {
    const reading = {
      id: "abcdefghij-r1",
      sensor: "gas0",
      gas: "no2",
      value: 52,
      unit: "ppb",
      ts: "2026-11-26T10:40:36.123Z",
      flags: [],
    };
    expect(Value.Check(Reading, reading)).toBe(true);
    expect(Value.Check(Reading, { ...reading, unit: "furlongs" })).toBe(false);
    expect(Value.Check(Reading, { ...reading, ts: "2026-11-26 10:40:36" })).toBe(false);
    const alert = {
      id: "abcdefghij-a1",
      readingId: "abcdefghij-r1",
      rule: "no2>=88ppb:warning",
      sensor: "gas0",
      gas: "no2",
      kind: "raise",
      value: 91.2,
      unit: "ppb",
      threshold: 88,
      op: ">=",
      severity: "warning",
      ts: "2026-11-26T10:40:36.123Z",
    };
    expect(Value.Check(AlertEvent, alert)).toBe(true);
    expect(Value.Check(AlertEvent, { ...alert, kind: "maybe" })).toBe(false);
  });
});
