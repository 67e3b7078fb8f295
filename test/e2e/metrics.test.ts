import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DaemonProcess, killAllDaemons, makeTempDir } from "../support/processes.js";

/** A port nothing listens on right now (the kernel's pick, released for sensord to take). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Prometheus text exposition format 0.0.4, strictly: every line is a HELP or
 * TYPE comment or `name{labels} value`; throws on anything else.
 */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type =
      /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1] ?? "", type[2] ?? "");
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(
      line,
    );
    if (!sample) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (sample[2] ?? "").matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      labels[pair[1] ?? ""] = pair[2] ?? "";
    }
    samples.push({ name: sample[1] ?? "", labels, value: Number(sample[3]) });
  }
  return { samples, types };
}

function value(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, want]) => sample.labels[key] === want),
  )?.value;
}

describe("[http] /metrics and /healthz", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    writeFileSync(join(dir, "replay.ndjson"), '{"no2": 50}\n{"no2": 95}\n');
  });
  afterEach(async () => {
    await killAllDaemons();
    cleanup();
  });

  async function start(port: number, sensors: string): Promise<DaemonProcess> {
    const file = join(dir, "sensord.toml");
    writeFileSync(
      file,
      `[storage]\npath = "sensord.db"\nflush_interval = "50ms"\n\n[control]\nsocket = ""\n\n[http]\nlisten = "127.0.0.1:${port}"\n\n${sensors}`,
    );
    const daemon = new DaemonProcess(["--config", file]);
    await daemon.waitForLog(new RegExp(`metrics on http://127\\.0\\.0\\.1:${port}/metrics`));
    return daemon;
  }

  it("serves Prometheus text whose counters move, and 200 ok on /healthz", async () => {
    const port = await freePort();
    const daemon = await start(
      port,
      '[[sensors]]\nid = "gas0"\ndriver = "replay"\ninterval = "50ms"\nfile = "replay.ndjson"\nloop = true\n',
    );
    const scrape = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
      return parsePrometheus(await response.text());
    };
    const first = await scrape();
    expect(first.types.get("sensord_readings_total")).toBe("counter");
    expect(first.types.get("sensord_alerts_total")).toBe("counter");
    expect(first.types.get("sensord_sensor_errors_total")).toBe("counter");
    expect(first.types.get("sensord_buffer_uncommitted_readings")).toBe("gauge");
    expect(value(first.samples, "sensord_sensor_up", { sensor: "gas0" })).toBe(1);
    expect(value(first.samples, "sensord_database_max_bytes")).toBe(256 * 1024 ** 2);
    // No [sync] and no [mqtt]: their series are absent rather than a misleading 0.
    expect([...first.types.keys()].filter((name) => /upload|mqtt/.test(name))).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, 400));
    const second = await scrape();
    const readings = (parsed: typeof first) => value(parsed.samples, "sensord_readings_total") ?? 0;
    expect(readings(second)).toBeGreaterThan(readings(first));
    // 95 ppb raises the safety NO2 rule, 50 clears it: both kinds counted.
    expect(value(second.samples, "sensord_alerts_total", { kind: "raise" })).toBeGreaterThan(0);
    expect(value(second.samples, "sensord_alerts_total", { kind: "clear" })).toBeGreaterThan(0);
    expect(
      value(second.samples, "sensord_sensor_samples_total", { sensor: "gas0" }),
    ).toBeGreaterThan(
      value(first.samples, "sensord_sensor_samples_total", { sensor: "gas0" }) ?? 0,
    );
    expect(value(second.samples, "sensord_database_bytes")).toBeGreaterThan(0);

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe("ok\n");
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    await daemon.stop();
  });

  it("answers 503 naming the sensor that is down, and counts its errors", async () => {
    const port = await freePort();
    await start(
      port,
      '[[sensors]]\nid = "ze0"\ndriver = "winsen-ze"\nport = "/dev/ttyNOPE9"\ngas = "co"\n',
    );
    let health = await fetch(`http://127.0.0.1:${port}/healthz`);
    const deadline = Date.now() + 5000;
    while (health.status !== 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      health = await fetch(`http://127.0.0.1:${port}/healthz`);
    }
    expect(health.status).toBe(503);
    expect(await health.text()).toMatch(/^sensor ze0 is down: .*ttyNOPE9.*\n$/);
    const metrics = parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    expect(value(metrics.samples, "sensord_sensor_up", { sensor: "ze0" })).toBe(0);
    const errors = metrics.samples.filter(
      (sample) => sample.name === "sensord_sensor_errors_total" && sample.labels.sensor === "ze0",
    );
    expect(errors.reduce((sum, sample) => sum + sample.value, 0)).toBeGreaterThan(0);
  });

  it("a port in use is logged with the fix and sensord runs on", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const address = blocker.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const file = join(dir, "sensord.toml");
      writeFileSync(
        file,
        `[storage]\npath = "sensord.db"\n\n[control]\nsocket = ""\n\n[http]\nlisten = "127.0.0.1:${port}"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n`,
      );
      const daemon = new DaemonProcess(["--config", file]);
      await daemon.waitForLog(
        /cannot serve metrics on 127\.0\.0\.1:\d+: .*EADDRINUSE.*set \[http\] listen to a free address/,
      );
      await daemon.waitForLog(/sensord started/);
      expect(daemon.child.exitCode).toBeNull();
      expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
