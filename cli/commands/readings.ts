import { type Command, Option } from "commander";
import type { Gas } from "../../schemas/vocabulary.js";
import { choice, parseGas, parsePositiveInt, parseSince } from "../args.js";
import { configFor, print, withReader } from "../context.js";
import { csv, jsonLines, table } from "../format.js";

const READING_COLUMNS = ["ts", "sensor", "gas", "value", "unit", "flags", "id"];
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

/** `readings` and `alerts`: read the database directly, read-only, whether or not sensord runs. */
export function registerReadingCommands(program: Command): void {
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
        const config = configFor(program, true);
        const readings = withReader(config.storage.path, (reader) =>
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
      const config = configFor(program, true);
      const alerts = withReader(config.storage.path, (reader) =>
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
}
