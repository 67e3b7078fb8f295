import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { cleanEnv, makeTempDir, ROOT } from "../support/processes.js";

async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
}

const DEMO = join(ROOT, "dist/demo/main.js");
const started: ChildProcess[] = [];
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, "SIGKILL");
    }
  }
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe("npm start (the demo)", () => {
  it("runs sensord, the ingest and a broker: readings upload, an alert reaches MQTT, SIGINT exits 0", async () => {
    const temp = makeTempDir("sensord-demo-");
    cleanups.push(temp.cleanup);
    // Free ports, no /metrics port, a spike every ~2 s instead of every minute.
    const child = spawn(
      process.execPath,
      [
        DEMO,
        "--dir",
        temp.dir,
        "--ingest-port",
        "0",
        "--mqtt-port",
        "0",
        "--http-listen",
        "",
        "--spike-every",
        "2s",
      ],
      { cwd: ROOT, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    started.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );

    await waitUntil(() => /MQTT broker\s+mqtt:\/\//.test(stdout), 15_000, "the banner");
    const ingestUrl = /fleet dashboard\s+(http:\/\/\S+)\//.exec(stdout)?.[1] ?? "";
    const brokerUrl = /MQTT broker\s+(mqtt:\/\/\S+)/.exec(stdout)?.[1] ?? "";
    // The hint the banner prints works as printed (from the folder npm start runs in).
    const statusHint = /^ {2}(node \S+ --config \S+ status)$/m.exec(stdout)?.[1] ?? "";
    expect(statusHint).toBe(
      `node dist/cli/main.js --config ${join(temp.dir, "sensord.toml")} status`,
    );

    const subscriber = await mqtt.connectAsync(brokerUrl, {
      clientId: "demo-test",
      reconnectPeriod: 0,
    });
    const alerts: Record<string, unknown>[] = [];
    subscriber.on("message", (_topic, payload) => alerts.push(JSON.parse(payload.toString())));
    await subscriber.subscribeAsync("pi/1", { qos: 1 });
    try {
      // Uploads every 5 s: readings become visible at the ingest.
      let readings = 0;
      await waitUntil(
        async () => {
          const health = (await (await fetch(`${ingestUrl}/healthz`)).json()) as {
            readings: number;
          };
          readings = health.readings;
          return readings > 0;
        },
        20_000,
        "readings at the ingest",
      );
      expect(readings % 4).toBe(0); // whole sampling cycles of 4 gases
      await waitUntil(
        () => alerts.some((alert) => typeof alert.warning === "string"),
        20_000,
        "an alert on the broker",
      );
      expect(alerts[0]).toMatchObject({ device: "demo-pi", group: "demo", sensor: "gas0" });
      // The fleet dashboard's alert list gets them too.
      await waitUntil(
        async () => {
          const listed = (await (await fetch(`${ingestUrl}/alerts`)).json()) as {
            alerts: unknown[];
          };
          return listed.alerts.length > 0;
        },
        10_000,
        "alerts at the ingest",
      );
      const status = spawnSync("sh", ["-c", statusHint], { cwd: ROOT, env: cleanEnv() });
      expect(status.status, status.stderr.toString()).toBe(0);
      expect(status.stdout.toString()).toMatch(/^sensord \S+: running, pid \d+/);

      // The fleet-threshold hint is a correct request as printed: stored as the group's version 1.
      const curlHint = /^ {2}(curl .+)$/m.exec(stdout)?.[1] ?? "";
      expect(curlHint).toBe(
        `curl -sS --fail-with-body -X PUT -H 'content-type: application/json' -d '{"thresholds":[{"gas":"no2","op":">=","value":60,"unit":"ppb","clear":50}],"changed_by":"demo"}' '${ingestUrl}/fleet/thresholds?group=demo'`,
      );
      const changed = spawnSync("sh", ["-c", curlHint], { cwd: ROOT, env: cleanEnv() });
      expect(changed.status, changed.stdout.toString() + changed.stderr.toString()).toBe(0);
      expect(JSON.parse(changed.stdout.toString())).toEqual({
        scope: "group",
        name: "demo",
        version: 1,
        etag: expect.stringMatching(/^g1-[0-9a-f]{8}$/),
      });
      const stored = await fetch(`${ingestUrl}/fleet/thresholds?group=demo`);
      expect(stored.status).toBe(200);
      expect(await stored.json()).toMatchObject({
        version: 1,
        thresholds: [{ gas: "no2", op: ">=", value: 60, unit: "ppb", clear: 50 }],
        changed_by: "demo",
      });
      // The demo Pi takes it in its next sync cycle (every 5 s) and says so in its next upload.
      const etag = (JSON.parse(changed.stdout.toString()) as { etag: string }).etag;
      await waitUntil(
        async () => {
          const report = (await (
            await fetch(`${ingestUrl}/fleet/thresholds/status?group=demo`)
          ).json()) as { devices: { device: string; state: string; reported_etag: string }[] };
          return report.devices.some(
            (device) =>
              device.device === "demo-pi" &&
              device.state === "in_sync" &&
              device.reported_etag === etag,
          );
        },
        20_000,
        "the demo Pi in sync with the group's set",
      );
      const list = spawnSync(
        "sh",
        ["-c", statusHint.replace(/ status$/, " threshold list --json")],
        { cwd: ROOT, env: cleanEnv() },
      );
      expect(list.status, list.stderr.toString()).toBe(0);
      const rules = (
        JSON.parse(list.stdout.toString()) as {
          rules: { origin: string; etag?: string; rule: { gas: string; value: number } }[];
        }
      ).rules;
      expect(rules.filter((entry) => entry.origin === "fleet")).toMatchObject([
        { etag, rule: { gas: "no2", value: 60 } },
      ]);
    } finally {
      await subscriber.endAsync();
    }

    child.kill("SIGINT");
    const code = await Promise.race([
      exited,
      new Promise((resolve) => setTimeout(() => resolve("timeout"), 15_000)),
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("SIGINT: stopping sensord, the ingest and the broker");
    expect(stdout).toMatch(/stopped; ingest: \{"readings":\d+/);
  }, 60_000);

  it("without aedes (an installed package has no dev dependencies) exits 1 naming the fix", () => {
    const temp = makeTempDir("sensord-demo-");
    cleanups.push(temp.cleanup);
    const hook = join(ROOT, "test/demo/without-aedes.mjs");
    const result = spawnSync(
      process.execPath,
      ["--import", hook, DEMO, "--dir", temp.dir, "--ingest-port", "0", "--mqtt-port", "0"],
      { cwd: ROOT, env: cleanEnv(), encoding: "utf8", timeout: 20_000 },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "sensord-demo: the demo's MQTT broker needs the aedes package, a development dependency: " +
        "run the demo from a sensord checkout after `npm install`, or `npm install --no-save aedes`\n",
    );
  });

  it("with --http-listen 127.0.0.1:0 prints the address sensord bound, not port 0", async () => {
    const temp = makeTempDir("sensord-demo-");
    cleanups.push(temp.cleanup);
    const child = spawn(
      process.execPath,
      [
        DEMO,
        "--dir",
        temp.dir,
        "--ingest-port",
        "0",
        "--mqtt-port",
        "0",
        "--http-listen",
        "127.0.0.1:0",
      ],
      { cwd: ROOT, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    started.push(child);
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    await waitUntil(() => /Ctrl-C stops everything/.test(stdout), 20_000, "the banner");
    const dashboard = /device dashboard\s+(http:\/\/\S+)\/$/m.exec(stdout)?.[1] ?? "";
    const metrics = /sensord metrics\s+(http:\/\/\S+)\/metrics$/m.exec(stdout)?.[1] ?? "";
    expect(dashboard, stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dashboard).not.toMatch(/:0$/);
    expect(metrics).toBe(dashboard);
    // Both work as printed.
    const page = await fetch(`${dashboard}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>sensord</title>");
    expect((await fetch(`${metrics}/metrics`)).status).toBe(200);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  }, 60_000);
});
