import { type Command, Option } from "commander";
import { GASES, type Gas } from "../../schemas/vocabulary.js";
import { choice, parseGas, parsePositiveInt, parseSince } from "../args.js";
import { configFor, print, withReader } from "../context.js";
import { csv, jsonLines, table } from "../format.js";
import { choices, examples } from "../help.js";

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
const READING_FORMATS = ["table", "csv", "json"] as const;
const ALERT_FORMATS = ["table", "json"] as const;

/**
 * Asks for one row more than `limit`: its presence says the limit cut the
 * answer (without counting every match, which means reading them all). The
 * extra row is the oldest, dropped before printing.
 */
function fetchLimited<T>(
  limit: number,
  fetch: (limit: number) => T[],
): { rows: T[]; cut: boolean } {
  const rows = fetch(limit + 1);
  return rows.length > limit
    ? { rows: rows.slice(rows.length - limit), cut: true }
    : { rows, cut: false };
}

/** On stderr, so `--format csv > file` and pipes get only the rows. */
function sayCut(limit: number, what: string): void {
  process.stderr.write(
    `sensorctl: showing the newest ${limit} ${what}; more match: give a larger --limit ` +
      `(e.g. --limit ${limit * 10}) to see them\n`,
  );
}

/** `readings` and `alerts`: read the database directly, read-only, whether or not sensord runs. */
export function registerReadingCommands(program: Command): void {
  const readings = program
    .command("readings")
    .description("stored readings, oldest first (read-only; works while sensord runs)")
    .option("--gas <gas>", `only this gas: ${GASES.join(", ")}`, parseGas)
    .option("--sensor <id>", "only this sensor")
    .option(
      "--since <duration|time>",
      'only readings newer than this, e.g. "10m" or an ISO time',
      (text) => parseSince(text),
    )
    .option(
      "--limit <n>",
      "at most the newest N readings (stderr says when more match)",
      parsePositiveInt,
      100,
    )
    .addOption(
      new Option(`--format ${choices(READING_FORMATS)}`, "output format")
        .argParser(choice(READING_FORMATS))
        .default("table"),
    )
    .action(
      (options: {
        gas?: Gas;
        sensor?: string;
        since?: number;
        limit: number;
        format: (typeof READING_FORMATS)[number];
      }) => {
        const config = configFor(program);
        const { rows, cut } = withReader(config.storage.path, (reader) =>
          fetchLimited(options.limit, (limit) =>
            reader.readings({
              gas: options.gas,
              sensor: options.sensor,
              sinceMs: options.since,
              limit,
            }),
          ),
        );
        if (options.format === "json") print(jsonLines(rows));
        else if (options.format === "csv") print(csv(rows, READING_COLUMNS));
        else print(rows.length === 0 ? "no readings" : table(rows, READING_COLUMNS));
        if (cut) sayCut(options.limit, "matching readings");
      },
    );
  examples(readings, [
    "readings --since 10m",
    "readings --gas no2 --since 2026-11-26T10:00:00Z --limit 10000 --format csv > no2.csv",
  ]);

  const alerts = program
    .command("alerts")
    .description("alert events (raise and clear), oldest first")
    .option("--active", "only alarms that are raised now")
    .option(
      "--limit <n>",
      "at most the newest N events (stderr says when more match)",
      parsePositiveInt,
      100,
    )
    .addOption(
      new Option(`--format ${choices(ALERT_FORMATS)}`, "output format")
        .argParser(choice(ALERT_FORMATS))
        .default("table"),
    )
    .action(
      (options: { active?: boolean; limit: number; format: (typeof ALERT_FORMATS)[number] }) => {
        const config = configFor(program);
        const { rows, cut } = withReader(config.storage.path, (reader) =>
          fetchLimited(options.limit, (limit) =>
            reader.alerts({ active: options.active === true, limit }),
          ),
        );
        if (options.format === "json") print(jsonLines(rows));
        else
          print(
            rows.length === 0
              ? options.active
                ? "no active alarms"
                : "no alert events"
              : table(rows, ALERT_COLUMNS),
          );
        if (cut) sayCut(options.limit, options.active ? "active alarms" : "alert events");
      },
    );
  examples(alerts, ["alerts --active", "alerts --limit 1000 --format json"]);
}
