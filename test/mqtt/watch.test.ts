import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatAlertLine } from "../../cli/watch.js";
import { Broker, stopAllBrokers } from "../support/mosquitto.js";
import { cleanEnv, makeTempDir, SENSORCTL, sensorctl, waitUntil } from "../support/processes.js";

const RAISE = {
  warning: "no2 warning",
  id: "abcdefghij-a1",
  device: "pi-other",
  group: "2",
  sensor: "gas0",
  gas: "no2",
  value: 91.2,
  unit: "ppb",
  threshold: 88,
  severity: "warning",
  ts: "2026-11-26T10:40:36.123Z",
};
const CLEAR = {
  cleared: "no2",
  ...RAISE,
  warning: undefined,
  id: "abcdefghij-a2",
  value: 79,
  ts: "2026-11-26T10:41:00.000Z",
};

describe("formatAlertLine", () => {
  it("prints raise and clear visibly apart, with device, gas, value, unit, threshold and time", () => {
    expect(formatAlertLine(JSON.stringify(RAISE))).toBe(
      "2026-11-26T10:40:36.123Z  ALARM  WARNING  pi-other/gas0  no2 91.2 ppb (threshold 88 ppb)  abcdefghij-a1",
    );
    expect(formatAlertLine(JSON.stringify(CLEAR))).toBe(
      "2026-11-26T10:41:00.000Z  clear           pi-other/gas0  no2 79 ppb (threshold 88 ppb)  abcdefghij-a2",
    );
  });

  it("shows original-format and unparsable messages as they came", () => {
    expect(formatAlertLine('{"warning": "no2 warning"}')).toBe('ALARM  {"warning": "no2 warning"}');
    expect(formatAlertLine("hello")).toBe("?      hello");
  });
});

describe("sensorctl watch", () => {
  let dir: string;
  let cleanup: () => void;
  let child: ChildProcess | null = null;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(async () => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, "SIGKILL");
    }
    child = null;
    await stopAllBrokers();
    cleanup();
  });

  function publish(broker: Broker, payload: unknown): void {
    execFileSync("mosquitto_pub", [
      "-h",
      "127.0.0.1",
      "-p",
      String(broker.port),
      "-q",
      "1",
      "-t",
      "pi/1",
      "-m",
      JSON.stringify(payload),
    ]);
  }

  it("prints alerts published by another device, reconnects, and exits 0 on Ctrl-C", async () => {
    const broker = await Broker.start({ dir });
    const configFile = join(dir, "sensord.toml");
    writeFileSync(
      configFile,
      `[device]\nid = "pi-watch"\n\n[storage]\npath = "db/sensord.db"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n\n[mqtt]\nurl = "${broker.url}"\n`,
    );
    const started = spawn(process.execPath, [SENSORCTL, "--config", configFile, "watch"], {
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = started;
    let stdout = "";
    let stderr = "";
    started.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    started.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => started.on("exit", resolve));
    await waitUntil(() => /watching "pi\/1"/.test(stderr), 5000, "watching");
    publish(broker, RAISE);
    await waitUntil(() => stdout.includes("\n"), 5000, "a line");
    expect(stdout).toBe(`${formatAlertLine(JSON.stringify(RAISE))}\n`);

    await broker.restart();
    await waitUntil(() => (stderr.match(/watching "pi\/1"/g) ?? []).length === 2, 10_000, "again");
    expect(stderr).toContain("lost; reconnecting");
    publish(broker, CLEAR);
    await waitUntil(() => stdout.split("\n").length === 3, 5000, "second line");
    expect(stdout.split("\n")[1]).toContain("  clear  ");

    started.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("--json prints each message as received; no [mqtt] section exits 78", async () => {
    const broker = await Broker.start({ dir });
    const configFile = join(dir, "sensord.toml");
    writeFileSync(
      configFile,
      `[[sensors]]\nid = "gas0"\ndriver = "sim"\n\n[mqtt]\nurl = "${broker.url}"\n`,
    );
    const started = spawn(
      process.execPath,
      [SENSORCTL, "--config", configFile, "watch", "--json"],
      { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    child = started;
    let stdout = "";
    let stderr = "";
    started.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    started.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await waitUntil(() => stderr.includes("watching"), 5000, "watching");
    publish(broker, RAISE);
    await waitUntil(() => stdout.includes("\n"), 5000, "a line");
    expect(stdout).toBe(`${JSON.stringify(RAISE)}\n`);

    const bare = join(dir, "bare.toml");
    writeFileSync(bare, '[[sensors]]\nid = "gas0"\ndriver = "sim"\n');
    const result = sensorctl(["--config", bare, "watch"]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`no [mqtt] section in ${bare}`);
  });
});
