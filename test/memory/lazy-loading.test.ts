import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { cleanEnv, DaemonProcess, killAllDaemons, makeTempDir } from "../support/processes.js";

/**
 * A sensord on a Pi Zero carries only what its config uses. Each
 * package below is 2-19 MiB of RSS once imported (bench/memory.ts).
 */
const HEAVY = [
  "@sinclair/typebox",
  "serialport",
  "i2c-bus",
  "mqtt",
  "undici",
  "prom-client",
  "node-cron",
];

const RECORDER = pathToFileURL(join(import.meta.dirname, "record-packages.mjs")).href;

let cleanup: (() => void) | undefined;
afterEach(async () => {
  await killAllDaemons();
  cleanup?.();
  cleanup = undefined;
});

/** Runs the real binary on `config` for a few readings; the packages it resolved, by name. */
async function packagesLoaded(config: string): Promise<Set<string>> {
  const temp = makeTempDir("sensord-lazy-");
  cleanup = temp.cleanup;
  const file = join(temp.dir, "sensord.toml");
  const record = join(temp.dir, "packages.txt");
  writeFileSync(record, "");
  writeFileSync(file, config.replaceAll("DIR", temp.dir));
  const daemon = new DaemonProcess(["--config", file], {
    env: cleanEnv({ NODE_OPTIONS: `--import ${RECORDER}`, SENSORD_TEST_PACKAGES_FILE: record }),
  });
  await daemon.waitForLog(/sensord started/);
  // A dozen readings sampled and committed: the sampling and flush paths have run too.
  await new Promise((resolveWait) => setTimeout(resolveWait, 2500));
  expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  return new Set(readFileSync(record, "utf8").split("\n").filter(Boolean));
}

const SENSOR_ONLY = `
[storage]
path = "DIR/sensord.db"
[[sensors]]
id = "gas0"
driver = "sim"
interval = "200ms"
[control]
socket = ""
[http]
listen = ""
`;

describe("what a running sensord loads", () => {
  it("a sensor-only config loads none of TypeBox, serialport, i2c-bus, mqtt, undici, prom-client, node-cron", async () => {
    const loaded = await packagesLoaded(SENSOR_ONLY);
    // The recorder sees packages at all: the storage engine is always there.
    expect(loaded).toContain("better-sqlite3");
    expect(HEAVY.filter((name) => loaded.has(name))).toEqual([]);
  }, 20_000);

  it("the control socket on still loads no TypeBox until a bad body arrives", async () => {
    const loaded = await packagesLoaded(
      `${SENSOR_ONLY.replace('socket = ""', 'socket = "DIR/s.sock"')}`,
    );
    expect(loaded.has("@sinclair/typebox")).toBe(false);
  }, 20_000);
});
