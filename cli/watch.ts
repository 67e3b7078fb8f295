import { randomBytes } from "node:crypto";
import { Value } from "@sinclair/typebox/value";
import type { Command } from "commander";
import mqtt from "mqtt";
import { describeError } from "../core/errors.js";
import { MqttAlertPayload } from "../schemas/mqtt.js";
import { authOptions } from "../sync/mqtt/client-options.js";
import { brokerName, explainConnectError } from "../sync/mqtt/errors.js";
import { MqttFileError, readTlsMaterial } from "../sync/mqtt/tls.js";
import { configFor } from "./context.js";
import { CliExit, EXIT } from "./exit.js";
import { examples } from "./help.js";

/**
 * One human line per alert message. A raise reads ALARM, a clear reads
 * "clear", so the two never look alike; a message in the original format
 * (`{"warning": "no2 warning"}` only) is shown as it came.
 */
export function formatAlertLine(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `?      ${text}`;
  }
  if (!Value.Check(MqttAlertPayload, parsed)) {
    return `ALARM  ${text}`;
  }
  const where = `${parsed.device}/${parsed.sensor}`;
  const reading = `${parsed.gas} ${parsed.value} ${parsed.unit} (threshold ${parsed.threshold} ${parsed.unit})`;
  if ("warning" in parsed) {
    return `${parsed.ts}  ALARM  ${parsed.severity.toUpperCase().padEnd(8)} ${where}  ${reading}  ${parsed.id}`;
  }
  return `${parsed.ts}  clear  ${"".padEnd(8)} ${where}  ${reading}  ${parsed.id}`;
}

/** Registers `sensorctl watch`: the replacement for the original sub.py. */
export function registerWatch(program: Command): void {
  const command = program
    .command("watch")
    .description(
      "print alert events as they arrive over MQTT (the [mqtt] broker and topic); reconnects by itself; Ctrl-C exits 0",
    )
    .option("--json", "print each message as received, one JSON object per line")
    .action((options: { json?: boolean }) => {
      try {
        return watch(program, options.json === true);
      } catch (error) {
        // Handled here so the exit code holds whatever main.ts's own error handling is.
        if (!(error instanceof CliExit)) throw error;
        process.stderr.write(`sensorctl: ${error.message}\n`);
        process.exit(error.exitCode);
      }
    });
  examples(command, ["watch", "watch --json | jq .warning"]);
}

function watch(program: Command, json: boolean): Promise<void> {
  const config = configFor(program);
  const settings = config.mqtt;
  if (settings === null) {
    throw new CliExit(
      EXIT.config,
      `no [mqtt] section in ${config.source ?? "the configuration"}; add one with url = "mqtts://..." (see README, MQTT)`,
    );
  }
  let material: ReturnType<typeof readTlsMaterial>;
  try {
    material = readTlsMaterial(settings);
  } catch (error) {
    if (error instanceof MqttFileError) throw new CliExit(EXIT.failure, error.message);
    throw error;
  }
  const client = mqtt.connect(settings.url, {
    ...authOptions(settings, material),
    // Its own id: the daemon's would kick sensord off the broker.
    clientId: `${settings.clientId}-watch-${randomBytes(3).toString("hex")}`,
    clean: true,
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
  });
  const say = (line: string) => process.stderr.write(`sensorctl: ${line}\n`);
  let lastError: string | null = null;
  let connected = false;
  client.on("connect", () => {
    connected = true;
    lastError = null;
    client.subscribe(settings.topic, { qos: 1 }, (error) => {
      if (error) say(`cannot subscribe to "${settings.topic}": ${describeError(error)}`);
      else say(`watching "${settings.topic}" on ${brokerName(settings.url)} (Ctrl-C to stop)`);
    });
  });
  client.on("error", (error) => {
    const message = explainConnectError(error, settings).message;
    if (message !== lastError) say(`${message}; retrying`);
    lastError = message;
  });
  client.on("close", () => {
    if (connected) say(`connection to ${brokerName(settings.url)} lost; reconnecting`);
    connected = false;
  });
  client.on("message", (_topic, payload) => {
    const text = payload.toString("utf8");
    process.stdout.write(`${json ? text : formatAlertLine(text)}\n`);
  });
  return new Promise<void>(() => {
    const stop = () => {
      client.end(true);
      process.exit(EXIT.ok);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
