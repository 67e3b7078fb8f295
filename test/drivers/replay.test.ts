import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DriverError } from "../../core/errors.js";
import { createLogger } from "../../core/logger.js";
import { openI2cBus } from "../../daemon/drivers/i2c/bus.js";
import { parseReplayLine, replayDriver } from "../../daemon/drivers/replay.js";
import type { SensorConfig } from "../../schemas/config-types.js";

const log = createLogger({ level: "error", journald: false, write: () => {} });

function sensor(options: Record<string, unknown>): SensorConfig {
  return { id: "replay0", driver: "replay", intervalMs: 0, warmupMs: 0, channels: {}, options };
}

describe("parseReplayLine", () => {
  it("reads any subset of gases, and an optional recorded ts", () => {
    expect(parseReplayLine("s", '{"co": 26.2, "no2": 91.0, "c2h5oh": 26.1, "h2": 400}', 1)).toEqual(
      {
        values: [
          { gas: "co", value: 26.2 },
          { gas: "no2", value: 91 },
          { gas: "c2h5oh", value: 26.1 },
          { gas: "h2", value: 400 },
        ],
      },
    );
    expect(parseReplayLine("s", '{"ts": "2026-11-26T10:40:36.123Z", "no2": 52}', 1)).toEqual({
      values: [{ gas: "no2", value: 52 }],
      ts: Date.parse("2026-11-26T10:40:36.123Z"),
    });
  });

  it.each([
    ["{not json", "line 7: not JSON"],
    ["[1,2]", "line 7: expected a JSON object"],
    ['{"xenon": 1}', 'line 7: unknown gas "xenon"'],
    ['{"co": "high"}', "line 7: co is not a number"],
    ['{"co": 1, "ts": "yesterday"}', 'line 7: "ts" is not a time'],
  ])("rejects %s as a bad frame naming the line", (line, message) => {
    let caught: unknown;
    try {
      parseReplayLine("replay0", line, 7);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DriverError);
    expect((caught as DriverError).code).toBe("SENSORD_FRAME_INVALID");
    expect((caught as DriverError).message).toContain(message);
  });
});

describe("replay driver", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sensord-replay-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("streams every line of a large file in order, then reports end of data", async () => {
    const lines = Array.from({ length: 20_000 }, (_, index) => JSON.stringify({ co: index }));
    writeFileSync(join(dir, "big.ndjson"), `${lines.join("\n")}\n\n`);
    const driver = replayDriver.create(sensor({ file: "big.ndjson" }), {
      log,
      baseDir: dir,
      openI2cBus,
    });
    await driver.open();
    const seen: number[] = [];
    for (let sample = await driver.read(); sample !== null; sample = await driver.read()) {
      seen.push(sample.values[0]?.value ?? -1);
    }
    await driver.close();
    expect(seen).toHaveLength(20_000);
    expect(seen.every((value, index) => value === index)).toBe(true);
  });

  it("starts again at the top with loop = true", async () => {
    writeFileSync(join(dir, "two.ndjson"), '{"h2": 1}\n{"h2": 2}');
    const driver = replayDriver.create(sensor({ file: "two.ndjson", loop: true }), {
      log,
      baseDir: dir,
      openI2cBus,
    });
    await driver.open();
    const values = [];
    for (let index = 0; index < 5; index++) values.push((await driver.read())?.values[0]?.value);
    expect(values).toEqual([1, 2, 1, 2, 1]);
  });

  it("config check names the key when the file is missing", () => {
    const problems =
      replayDriver.check?.(sensor({ file: "missing.ndjson" }), "sensors[0]", dir) ?? [];
    expect(problems).toHaveLength(1);
    expect(problems[0]?.key).toBe("sensors[0].file");
    expect(problems[0]?.message).toContain(join(dir, "missing.ndjson"));
  });
});
