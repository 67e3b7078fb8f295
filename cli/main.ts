#!/usr/bin/env node
import { Command, CommanderError, Option } from "commander";
import { loadConfig } from "../daemon/config/load.js";
import { renderConfig } from "../daemon/config/render.js";
import type { SensordConfig } from "../daemon/config/types.js";
import {
  ConfigError,
  describeError,
  EXIT_CONFIG,
  EXIT_USAGE,
  SensordError,
} from "../daemon/errors.js";
import { openStoreReader } from "../daemon/store/reader.js";
import type { StoreReader } from "../daemon/store/types.js";
import { VERSION } from "../daemon/version.js";
import type { Gas } from "../schemas/vocabulary.js";
import { choice, parseGas, parsePositiveInt, parseSince } from "./args.js";
import { csv, jsonLines, table } from "./format.js";

interface GlobalOptions {
  config?: string;
}

/** Thrown by commands to end with a specific exit code after printing `message` to stderr. */
class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

function configFor(program: Command, simulateFallback: boolean): SensordConfig {
  const { config } = program.opts<GlobalOptions>();
  try {
    // Reading commands fall back to the built-in defaults (as `sensord --simulate` uses) when no file exists.
    return loadConfig({ flagPath: config, env: process.env, simulate: simulateFallback });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliExit(EXIT_CONFIG, error.message);
    throw error;
  }
}

function withReader<T>(program: Command, use: (reader: StoreReader) => T): T {
  const config = configFor(program, true);
  let reader: StoreReader;
  try {
    reader = openStoreReader(config.storage.path);
  } catch (error) {
    if (error instanceof SensordError) throw new CliExit(1, error.message);
    throw error;
  }
  try {
    return use(reader);
  } finally {
    reader.close();
  }
}

function print(text: string): void {
  if (text !== "") process.stdout.write(`${text}\n`);
}

const program = new Command()
  .name("sensorctl")
  .description("Inspect and manage sensord")
  .version(VERSION)
  .option(
    "-c, --config <file>",
    "config file (default: $SENSORD_CONFIG, then /etc/sensord/sensord.toml)",
  )
  .exitOverride()
  .addHelpText("after", "\nExit codes: 0 ok, 1 failure, 2 usage error, 78 configuration error.");

const READING_COLUMNS = ["ts", "sensor", "gas", "value", "unit", "flags", "id"];
program
  .command("readings")
  .description("stored readings, oldest first (read-only; works while sensord runs)")
  .option("--gas <gas>", "only this gas", parseGas)
  .option("--sensor <id>", "only this sensor")
  .option(
    "--since <duration|time>",
    'only readings newer than this, e.g. "10m" or an ISO time',
    (text) => parseSince(text),
  )
  .option("--limit <n>", "at most the newest N readings", parsePositiveInt, 100)
  .addOption(
    new Option("--format <format>", "output format")
      .argParser(choice(["table", "csv", "json"] as const))
      .default("table"),
  )
  .action(
    (options: {
      gas?: Gas;
      sensor?: string;
      since?: number;
      limit: number;
      format: "table" | "csv" | "json";
    }) => {
      const readings = withReader(program, (reader) =>
        reader.readings({
          gas: options.gas,
          sensor: options.sensor,
          sinceMs: options.since,
          limit: options.limit,
        }),
      );
      if (options.format === "json") print(jsonLines(readings));
      else if (options.format === "csv") print(csv(readings, READING_COLUMNS));
      else print(readings.length === 0 ? "no readings" : table(readings, READING_COLUMNS));
    },
  );

const ALERT_COLUMNS = [
  "ts",
  "kind",
  "severity",
  "sensor",
  "gas",
  "value",
  "unit",
  "op",
  "threshold",
  "rule",
  "id",
];
program
  .command("alerts")
  .description("alert events (raise and clear), oldest first")
  .option("--active", "only alarms that are raised now")
  .option("--limit <n>", "at most the newest N events", parsePositiveInt, 100)
  .addOption(
    new Option("--format <format>", "output format")
      .argParser(choice(["table", "json"] as const))
      .default("table"),
  )
  .action((options: { active?: boolean; limit: number; format: "table" | "json" }) => {
    const alerts = withReader(program, (reader) =>
      reader.alerts({ active: options.active === true, limit: options.limit }),
    );
    if (options.format === "json") print(jsonLines(alerts));
    else
      print(
        alerts.length === 0
          ? options.active
            ? "no active alarms"
            : "no alert events"
          : table(alerts, ALERT_COLUMNS),
      );
  });

program
  .command("config")
  .description("configuration tools")
  .command("check")
  .description(
    "validate a config file and print the effective configuration (exit 0 valid, 78 invalid)",
  )
  .argument("[file]", "config file (default: --config, $SENSORD_CONFIG, /etc/sensord/sensord.toml)")
  .action((file: string | undefined) => {
    if (file !== undefined) program.setOptionValue("config", file);
    const config = configFor(program, false);
    print(`# ${config.source ?? "built-in defaults"}: valid\n${renderConfig(config)}`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  if (error instanceof CliExit) {
    process.stderr.write(`sensorctl: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`sensorctl: ${describeError(error)}\n`);
  process.exit(1);
});
