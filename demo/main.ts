#!/usr/bin/env node
// `npm start`: the whole loop on one machine, no hardware, no cloud account:
// sensord on the simulated sensor -> SQLite -> uploads to sensord-ingest
// (fleet dashboard: readings and alert events) and alerts over MQTT to an
// embedded broker.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { controlRequest } from "../cli/control-client.js";
import { startIngestServer } from "../cloud/http/server.js";
import { parseDuration } from "../core/duration.js";
import { describeError } from "../core/errors.js";
import { processLogger } from "../core/logger.js";
import { BrokerMissingError, startBroker } from "./broker.js";
import { DEMO_GROUP, demoConfig } from "./config.js";

const SENSORD = resolve(import.meta.dirname, "../daemon/main.js");
const SENSORCTL = resolve(import.meta.dirname, "../cli/main.js");

function portArg(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) {
    throw new InvalidArgumentError(`"${text}" is not a port (0-65535; 0 picks a free one)`);
  }
  return port;
}

function durationArg(text: string): string {
  const ms = parseDuration(text);
  if (ms === null || ms <= 0)
    throw new InvalidArgumentError(`"${text}" is not a duration such as "60s"`);
  return text;
}

const program = new Command()
  .name("sensord-demo")
  .description("Runs sensord (simulated sensor), sensord-ingest and an MQTT broker together")
  .option("--dir <folder>", "where the demo keeps its state", "./var/demo")
  .option("--ingest-port <port>", "sensord-ingest (fleet dashboard) port", portArg, 8787)
  .option("--mqtt-port <port>", "embedded MQTT broker port", portArg, 1884)
  .option("--http-listen <host:port>", 'sensord\'s /metrics; "" turns it off', "127.0.0.1:9464")
  .option("--spike-every <duration>", "mean time between simulated gas spikes", durationArg, "60s")
  .exitOverride();

interface Options {
  dir: string;
  ingestPort: number;
  mqttPort: number;
  httpListen: string;
  spikeEvery: string;
}

async function main(): Promise<number> {
  program.parse(process.argv);
  const options = program.opts<Options>();
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const log = processLogger("warn");

  const broker = await startBroker(options.mqttPort).catch((error: unknown) => {
    if (error instanceof BrokerMissingError) throw error;
    throw new Error(
      `cannot start the MQTT broker on 127.0.0.1:${options.mqttPort}: ${describeError(error)}; ` +
        "pick another port with --mqtt-port (0 picks a free one)",
    );
  });
  const ingest = await startIngestServer({
    listen: `127.0.0.1:${options.ingestPort}`,
    dbPath: resolve(dir, "ingest.db"),
    log,
  }).catch(async (error: unknown) => {
    await broker.close();
    throw new Error(
      `cannot start sensord-ingest on 127.0.0.1:${options.ingestPort}: ${describeError(error)}; ` +
        "pick another port with --ingest-port (0 picks a free one)",
    );
  });
  const configPath = resolve(dir, "sensord.toml");
  writeFileSync(
    configPath,
    demoConfig({
      ingestUrl: ingest.url,
      mqttUrl: broker.url,
      spikeEvery: options.spikeEvery,
      httpListen: options.httpListen,
    }),
  );
  broker.onPublish((topic, payload) => {
    if (topic !== "pi/1") return;
    process.stdout.write(`mqtt ${topic}: ${payload.toString("utf8")}\n`);
  });
  const sensord: ChildProcess = spawn(process.execPath, [SENSORD, "--config", configPath], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const sensordExit = new Promise<number | null>((resolveExit) => {
    sensord.on("exit", (code) => resolveExit(code));
  });

  const httpLines =
    options.httpListen === ""
      ? []
      : await boundHttp(resolve(dir, "sensord.sock"), sensordExit).then((bound) =>
          typeof bound === "string"
            ? [`  device dashboard http://${bound}/`, `  sensord metrics  http://${bound}/metrics`]
            : [`  device dashboard not available: ${bound.error}`],
        );

  // Short when under the current folder (./var/demo), absolute otherwise.
  const shortPath = (path: string): string => {
    const inside = relative(process.cwd(), path);
    return inside === "" || inside.startsWith("..") ? path : inside;
  };
  const config = shortPath(configPath);
  // A checkout does not put its own bins on PATH (`npx sensorctl` would look in
  // the registry), so the hint names the built file; installed, it is `sensorctl`.
  const sensorctl = `node ${shortPath(SENSORCTL)} --config ${config}`;
  process.stdout.write(
    [
      "",
      "sensord demo: simulated gas sensor -> sensord -> sensord-ingest, alerts over MQTT",
      `  fleet dashboard  ${ingest.url}/`,
      `  ingest health    ${ingest.url}/healthz`,
      `  MQTT broker      ${broker.url} (alerts on topic "pi/1")`,
      ...httpLines,
      `  state            ${dir}`,
      "Try, in another shell:",
      `  ${sensorctl} status`,
      `  ${sensorctl} readings --since 1m`,
      `  ${sensorctl} alerts`,
      `  ${sensorctl} watch`,
      `  ${sensorctl} threshold set co 12`,
      `  ${fleetThresholdHint(ingest.url)}`,
      "Ctrl-C stops everything.",
      "",
    ]
      .filter((line, index, lines) => line !== "" || index === 0 || index === lines.length - 1)
      .join("\n"),
  );

  const stopSignal = new Promise<NodeJS.Signals>((resolveSignal) => {
    process.once("SIGINT", () => resolveSignal("SIGINT"));
    process.once("SIGTERM", () => resolveSignal("SIGTERM"));
  });
  const first: { signal: NodeJS.Signals | null; code: number | null } = await Promise.race([
    stopSignal.then((signal) => ({ signal, code: null })),
    sensordExit.then((code) => ({ signal: null, code })),
  ]);
  let exitCode = 0;
  if (first.signal === null && first.code === 0) {
    // Ctrl-C reaches sensord too, and it may exit before our own handler runs.
    const late = await Promise.race([stopSignal, delay(1000).then(() => null)]);
    if (late !== null) first.signal = late;
  }
  if (first.signal === null) {
    process.stderr.write(`sensord-demo: sensord exited (code ${first.code}); stopping the demo\n`);
    exitCode = 1;
  } else {
    process.stdout.write(`${first.signal}: stopping sensord, the ingest and the broker\n`);
    // A second Ctrl-C does not wait.
    process.once("SIGINT", () => process.exit(130));
  }
  if (sensord.exitCode === null && sensord.signalCode === null) {
    // On Ctrl-C the terminal already sent sensord its own SIGINT; SIGTERM covers `kill <demo pid>`.
    sensord.kill("SIGTERM");
    const timer = setTimeout(() => sensord.kill("SIGKILL"), 10_000);
    const code = await sensordExit;
    clearTimeout(timer);
    if (code !== 0) exitCode = 1;
  }
  // Counted before the store closes (stats() reads it); a failure must not keep the demo from stopping.
  const stats = await ingest.stats().catch((error: unknown) => ({ error: describeError(error) }));
  await ingest.close();
  await broker.close();
  process.stdout.write(`stopped; ingest: ${JSON.stringify(stats)}\n`);
  return exitCode;
}

/**
 * A `curl` that sets the demo group's NO2 warning on the fleet side (PUT
 * /fleet/thresholds, issue 16), as an operator would for a whole group of
 * Pis. The demo's ingest has no API key (it listens on loopback only), so
 * the request needs none; `--fail-with-body` makes a refusal a failure
 * that still shows why.
 */
function fleetThresholdHint(ingestUrl: string): string {
  const body = {
    thresholds: [{ gas: "no2", op: ">=", value: 60, unit: "ppb", clear: 50 }],
    changed_by: "demo",
  };
  const url = `${ingestUrl}/fleet/thresholds?group=${encodeURIComponent(DEMO_GROUP)}`;
  return `curl -sS --fail-with-body -X PUT -H 'content-type: application/json' -d '${JSON.stringify(body)}' '${url}'`;
}

/**
 * The address sensord's HTTP server is bound to, from its status on the
 * control socket: with `--http-listen 127.0.0.1:0` only sensord knows the
 * port it got. Waits for the server to start (or fail), at most 15 s.
 */
async function boundHttp(
  socket: string,
  exited: Promise<unknown>,
): Promise<string | { error: string }> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 15_000;
  let last = "sensord did not report its address within 15 s";
  while (!gone && Date.now() < deadline) {
    try {
      const answer = await controlRequest(socket, "GET", "/v1/status", undefined, {
        timeoutMs: 2000,
      });
      const http = httpState(answer.body);
      if (http?.error !== null && http?.error !== undefined) return { error: http.error };
      // Port 0 until the server is listening.
      if (http?.listen !== undefined && http.listen !== null && !http.listen.endsWith(":0")) {
        return http.listen;
      }
    } catch (error) {
      // Not up yet: the socket appears when sensord has opened its database.
      last = describeError(error);
    }
    await delay(100);
  }
  return { error: gone ? "sensord exited" : last };
}

function httpState(body: unknown): { listen: string | null; error: string | null } | null {
  if (typeof body !== "object" || body === null || !("http" in body)) return null;
  const http: unknown = body.http;
  if (typeof http !== "object" || http === null) return null;
  const listen = "listen" in http && typeof http.listen === "string" ? http.listen : null;
  const error = "error" in http && typeof http.error === "string" ? http.error : null;
  return { listen, error };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolveDelay) => setTimeout(resolveDelay, ms));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof Error && "exitCode" in error && typeof error.exitCode === "number") {
      process.exit(error.exitCode === 0 ? 0 : 2);
    }
    process.stderr.write(`sensord-demo: ${describeError(error)}\n`);
    process.exit(1);
  },
);
