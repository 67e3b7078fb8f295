import { chownSync, existsSync, statSync } from "node:fs";
import { type Command, Option } from "commander";
import { formatDuration } from "../../core/duration.js";
import { describeError, SensordError } from "../../core/errors.js";
import { createLogger } from "../../core/logger.js";
import {
  type OverrideContext,
  type OverrideOutcome,
  removeRule,
  resetOverride,
  setOverride,
} from "../../daemon/control/overrides.js";
import {
  applyOverrides,
  type EffectiveRules,
  type FleetLayer,
  resetCommand,
} from "../../daemon/control/rules.js";
import { ruleProblems } from "../../daemon/control/validate.js";
import { storedLayer } from "../../daemon/fleet/thresholds.js";
import { FleetThresholdTable } from "../../daemon/store/fleet-thresholds.js";
import { openDatabase } from "../../daemon/store/open.js";
import type { RuleSlot } from "../../daemon/store/overrides.js";
import { ThresholdOverrideTable } from "../../daemon/store/overrides.js";
import { openStoreReader } from "../../daemon/store/reader.js";
import type { SensordConfig, ThresholdRule } from "../../schemas/config-types.js";
import type { ComparisonOp } from "../../schemas/vocabulary.js";
import {
  GASES,
  type Gas,
  OPS,
  SEVERITIES,
  type Severity,
  UNITS,
  type Unit,
} from "../../schemas/vocabulary.js";
import { choice, parseGas } from "../args.js";
import { configFor, print } from "../context.js";
import { controlRequest, DaemonDown, replyProblems } from "../control-client.js";
import { CliExit, EXIT } from "../exit.js";
import { table } from "../format.js";
import { choices, examples } from "../help.js";
import { parseFiniteNumber, parseHoldTime } from "../threshold-args.js";

const NOT_RUNNING = "sensord is not running: stored, applies at next start";

interface SlotOptions {
  severity: Severity;
  sensor?: string;
}

function slotOptions(command: Command): Command {
  return command
    .addOption(
      new Option(`--severity ${choices(SEVERITIES)}`, "which of the gas's rules")
        .argParser(choice(SEVERITIES))
        .default("warning"),
    )
    .option("--sensor <id>", "only for this sensor (default: every sensor)");
}

/**
 * `threshold list|set|rm|reset`: overrides live in the database. With sensord
 * running, the change goes through its socket and applies at once; without,
 * sensorctl writes the database itself and sensord applies it at start.
 */
export function registerThresholdCommands(program: Command): void {
  const threshold = program
    .command("threshold")
    .description("alarm rules in force, and overrides of the config file's rules");

  const list = threshold
    .command("list")
    .description("the rules in force and where each comes from (preset, config file, override)")
    .option("--json", "print as JSON")
    .action(async (options: { json?: boolean }) => {
      const config = configFor(program);
      const { effective, running } = await currentRules(config);
      if (options.json) {
        print(JSON.stringify({ running, ...effective }, null, 2));
        return;
      }
      print(renderRules(effective));
      if (!running) print("\n(sensord is not running: these apply at its next start)");
    });
  examples(list, ["threshold list", "threshold list --json"]);

  const set = slotOptions(
    threshold
      .command("set")
      .description(
        "add a rule, or replace the rules of its gas/severity/sensor, until `threshold reset`",
      )
      .argument("<gas>", `gas: ${GASES.join(", ")}`, parseGas)
      .argument("<value>", "threshold, in --unit", parseFiniteNumber)
      .addOption(
        new Option(`--op ${choices(OPS)}`, "comparison that raises: value <op> threshold")
          .argParser(choice(OPS))
          .default(">="),
      )
      .addOption(
        new Option(
          `--unit ${choices(UNITS)}`,
          "unit of value and --clear (default: the unit the sensors report the gas in)",
        ).argParser(choice(UNITS)),
      )
      .option(
        "--clear <value>",
        "clear level (hysteresis; default: the threshold)",
        parseFiniteNumber,
      )
      .option(
        "--for <duration>",
        "how long the condition must hold before raising, e.g. 30s",
        parseHoldTime,
        0,
      ),
  ).action(
    async (
      gas: Gas,
      value: number,
      options: SlotOptions & { op: ComparisonOp; unit?: Unit; clear?: number; for: number },
    ) => {
      const rule: ThresholdRule = {
        gas,
        op: options.op,
        value,
        unit: options.unit ?? null,
        clear: options.clear ?? null,
        forMs: options.for,
        severity: options.severity,
        sensor: options.sensor ?? null,
      };
      // Checked here too, so a bad argument exits 2 whether or not sensord (or its database) is there.
      const problems = ruleProblems(rule, configFor(program).sensors);
      if (problems.length > 0) throw failure(400, { error: "invalid threshold rule", problems });
      await change(program, "PUT", "/v1/thresholds", rule, (context) => setOverride(context, rule));
    },
  );
  examples(set, [
    "threshold set co 50 --unit ppm",
    "threshold set no2 200 --unit ppb --severity critical --clear 180 --for 30s",
  ]);

  const rm = slotOptions(
    threshold
      .command("rm")
      .description(
        "remove the rule(s) of a gas/severity/sensor (a config file rule stays hidden until `threshold reset`)",
      )
      .argument("<gas>", `gas: ${GASES.join(", ")}`, parseGas),
  ).action(async (gas: Gas, options: SlotOptions) => {
    const slot: RuleSlot = { gas, severity: options.severity, sensor: options.sensor ?? null };
    await change(program, "POST", "/v1/thresholds/remove", slot, (context) =>
      removeRule(context, slot),
    );
  });
  examples(rm, ["threshold rm h2", "threshold rm co --severity critical --sensor gas0"]);

  const reset = slotOptions(
    threshold
      .command("reset")
      .description(
        "drop the override of a gas/severity/sensor: the config file's rules apply again",
      )
      .argument("<gas>", `gas: ${GASES.join(", ")}`, parseGas),
  ).action(async (gas: Gas, options: SlotOptions) => {
    const slot: RuleSlot = { gas, severity: options.severity, sensor: options.sensor ?? null };
    await change(program, "POST", "/v1/thresholds/reset", slot, (context) =>
      resetOverride(context, slot),
    );
  });
  examples(reset, ["threshold reset h2", "threshold reset co --severity critical --sensor gas0"]);
}

/** Through the socket when sensord runs, else straight into the database. */
async function change(
  program: Command,
  method: string,
  path: string,
  body: unknown,
  offline: (context: OverrideContext) => OverrideOutcome,
): Promise<void> {
  const config = configFor(program);
  if (config.control.socket !== null) {
    try {
      const answer = await controlRequest(config.control.socket, method, path, body);
      if (answer.status === 200) {
        print(`${messageOf(answer.body)}\napplied by the running sensord`);
        warn(warningsOf(answer.body));
        return;
      }
      throw failure(answer.status, replyProblems(answer.body));
    } catch (error) {
      if (!(error instanceof DaemonDown)) throw error;
    }
  }
  const outcome = withWritableOverrides(config, offline);
  if (!outcome.ok) throw failure(outcome.status, outcome);
  print(`${outcome.message}\n${NOT_RUNNING}`);
  warn(outcome.warnings ?? []);
}

function warn(warnings: readonly string[]): void {
  for (const warning of warnings) process.stderr.write(`sensorctl: warning: ${warning}\n`);
}

function warningsOf(body: unknown): string[] {
  if (typeof body !== "object" || body === null || !("warnings" in body)) return [];
  const { warnings } = body;
  return Array.isArray(warnings) ? warnings.filter((item) => typeof item === "string") : [];
}

function failure(
  status: number,
  reply: { error: string; problems: { field: string; message: string }[] },
): CliExit {
  const detail = reply.problems
    .map((problem) => `\n  ${problem.field}: ${problem.message}`)
    .join("");
  return new CliExit(status === 400 ? EXIT.usage : EXIT.failure, `${reply.error}${detail}`);
}

function messageOf(body: unknown): string {
  if (typeof body === "object" && body !== null && "message" in body) return String(body.message);
  return "done";
}

/**
 * Opens the database for writing while sensord is down. Never creates one: a
 * file made by root here would be unwritable for the sensord user.
 */
function withWritableOverrides(
  config: SensordConfig,
  use: (context: OverrideContext) => OverrideOutcome,
): OverrideOutcome {
  const path = config.storage.path;
  if (!existsSync(path)) {
    throw new CliExit(
      EXIT.failure,
      `sensord is not running and has no database at ${path} yet: start it once, then set thresholds`,
    );
  }
  const log = createLogger({
    level: "warn",
    journald: false,
    write: (line) => process.stderr.write(line),
  });
  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase(path, { log });
  } catch (error) {
    if (error instanceof SensordError) throw new CliExit(EXIT.failure, error.message);
    throw error;
  }
  try {
    const fleet = storedLayer(new FleetThresholdTable(db).read(), config.sensors);
    return use({ table: new ThresholdOverrideTable(db, path), config, fleet, now: Date.now });
  } finally {
    db.close();
    keepOwner(path);
  }
}

/** Side files SQLite left behind belong to whoever owns the database (sudo sensorctl must not lock sensord out). */
function keepOwner(path: string): void {
  try {
    const owner = statSync(path);
    for (const suffix of ["-wal", "-shm"]) {
      if (existsSync(path + suffix)) chownSync(path + suffix, owner.uid, owner.gid);
    }
  } catch (error) {
    process.stderr.write(
      `sensorctl: could not give ${path}'s side files back to its owner: ${describeError(error)}\n`,
    );
  }
}

/** The rules in force: the daemon's answer when it runs, else the config plus the stored overrides. */
async function currentRules(
  config: SensordConfig,
): Promise<{ effective: EffectiveRules; running: boolean }> {
  if (config.control.socket !== null) {
    try {
      const answer = await controlRequest(config.control.socket, "GET", "/v1/thresholds");
      if (answer.status === 200 && isEffectiveRules(answer.body)) {
        return { effective: answer.body, running: true };
      }
      throw new CliExit(EXIT.failure, `sensord answered with HTTP ${answer.status}`);
    } catch (error) {
      if (!(error instanceof DaemonDown)) throw error;
    }
  }
  let overrides: ReturnType<ThresholdOverrideTable["list"]> = [];
  let fleet: FleetLayer | null = null;
  if (existsSync(config.storage.path)) {
    try {
      const reader = openStoreReader(config.storage.path);
      try {
        overrides = reader.thresholdOverrides();
        fleet = storedLayer(reader.fleetThresholds(), config.sensors);
      } finally {
        reader.close();
      }
    } catch (error) {
      if (!(error instanceof SensordError)) throw error;
      throw new CliExit(EXIT.failure, error.message);
    }
  }
  return {
    effective: applyOverrides(config.thresholds, config.thresholdPreset, overrides, fleet),
    running: false,
  };
}

function isEffectiveRules(value: unknown): value is EffectiveRules {
  return (
    typeof value === "object" &&
    value !== null &&
    "rules" in value &&
    Array.isArray(value.rules) &&
    "removed" in value &&
    Array.isArray(value.removed)
  );
}

const ORIGIN_NAMES = {
  preset: "preset",
  config: "config file",
  fleet: "fleet",
  override: "override",
} as const;

function renderRules(effective: EffectiveRules): string {
  const rows = effective.rules.map((entry) => ({
    origin:
      entry.etag === undefined
        ? ORIGIN_NAMES[entry.origin]
        : `${ORIGIN_NAMES[entry.origin]} ${entry.etag}`,
    gas: entry.rule.gas,
    rule: `${entry.rule.op} ${entry.rule.value} ${entry.rule.unit ?? "(channel unit)"}`,
    clear: entry.rule.clear === null ? "" : String(entry.rule.clear),
    for: formatDuration(entry.rule.forMs),
    severity: entry.rule.severity,
    sensor: entry.rule.sensor ?? "*",
    note: entry.replaces.length === 0 ? "" : `replaces ${entry.replaces.join(", ")}`,
  }));
  const lines = [
    rows.length === 0
      ? "no rules in force: no alarms will be raised"
      : table(rows, ["origin", "gas", "rule", "clear", "for", "severity", "sensor", "note"]),
  ];
  for (const removed of effective.removed) {
    const what =
      removed.removes.length === 0 ? "(nothing in the config)" : removed.removes.join(", ");
    lines.push(`removed by override: ${what}  (undo: ${resetCommand(removed.slot)})`);
  }
  return lines.join("\n");
}
