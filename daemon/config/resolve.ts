import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse, TomlError } from "smol-toml";
import { ConfigError, describeError } from "../../core/errors.js";
import type { SensordConfig } from "../../schemas/config-types.js";
import { resolveControl } from "./control.js";
import { resolveHttp } from "./http.js";
import {
  type ConfigLocation,
  type LocateOptions,
  locateConfig,
  locationFix,
  locationKey,
} from "./locate.js";
import { resolveMqtt } from "./mqtt.js";
import { asTable, Problems, sortProblems } from "./problems.js";
import {
  type MachineDefaults,
  machineDefaults,
  resolveDevice,
  resolveLog,
  resolveStorage,
} from "./sections.js";
import { resolveSensors } from "./sensors.js";
import type { ShapeChecks } from "./shape-checks.js";
import { resolveSync } from "./sync.js";
import { resolveThresholds } from "./thresholds.js";

/** What `sensord --simulate` runs on when there is no config file; the path is relative to the cwd. */
export const SIMULATE_DEFAULTS_TOML = `[storage]
path = "var/sensord.db"

# Next to the database: /run/sensord exists only under systemd, and a user's cwd is writable.
[control]
socket = "var/sensord.sock"

[[sensors]]
id = "gas0"
driver = "sim"
`;

export interface ParseOptions {
  /** Hostname and time zone used as defaults. Default: this machine's. */
  machine?: MachineDefaults;
}

export interface LoadOptions extends LocateOptions, ParseOptions {
  /** Reads the file; injectable so tests can produce EACCES while running as root. */
  readFile?: (path: string) => string;
}

/**
 * Finds, reads and resolves the config (see locate.ts for where it looks).
 * Throws one ConfigError listing every problem found.
 */
export function loadConfigWith(checks: ShapeChecks, options: LoadOptions): SensordConfig {
  const location = locateConfig(options);
  if (location.path === null)
    return defaultConfigWith(checks, options.cwd ?? process.cwd(), options);
  const read = options.readFile ?? ((path: string) => readFileSync(path, "utf8"));
  return parseConfigWith(
    checks,
    readConfigFile(read, location.path, location.from),
    location.path,
    options,
  );
}

/** The built-in defaults (`--simulate` without a config file): one sim sensor, database under `cwd`. */
export function defaultConfigWith(
  checks: ShapeChecks,
  cwd: string,
  options: ParseOptions = {},
): SensordConfig {
  return resolveDocument(parseToml(SIMULATE_DEFAULTS_TOML, null), null, cwd, options, checks);
}

/** Parses and resolves config text; `file` is where it came from (relative paths start at its folder). */
export function parseConfigWith(
  checks: ShapeChecks,
  text: string,
  file: string,
  options: ParseOptions = {},
): SensordConfig {
  const source = resolve(file);
  return resolveDocument(parseToml(text, source), source, dirname(source), options, checks);
}

function readConfigFile(
  read: (path: string) => string,
  path: string,
  from: ConfigLocation["from"],
): string {
  try {
    return read(path);
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "";
    const fix = locationFix(from);
    const message =
      code === "ENOENT"
        ? `${path} does not exist; create it, or ${fix}`
        : code === "EACCES" || code === "EPERM"
          ? `cannot read ${path}: permission denied; make it readable by the user sensord runs as ` +
            `(e.g. chmod 644 ${path}), or ${fix}`
          : code === "EISDIR"
            ? `${path} is a directory, not a file; ${fix}`
            : `cannot read ${path} (${describeError(error)}); ${fix}`;
    throw new ConfigError(path, [{ key: locationKey(from), message }]);
  }
}

function parseToml(text: string, source: string | null): Record<string, unknown> {
  try {
    return parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // smol-toml's message continues with a code frame; the first line and the position suffice.
    const reason = (error.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
    const unterminated = unterminatedString(text, reason, error.line, error.column);
    throw new ConfigError(source, [
      {
        key: "toml",
        message:
          unterminated !== null
            ? `syntax error: unterminated string at line ${unterminated.line}, column ${unterminated.column}: ` +
              "close it with the quote it opens with on the same line " +
              "(\"\"\" or ''' for text over several lines)"
            : `syntax error at line ${error.line}, column ${error.column}: ${reason}; ` +
              "fix the TOML there (strings need quotes, sections are [name], repeated ones [[name]])",
      },
    ]);
  }
}

/**
 * Where a string that never closes opens, or null for any other error.
 * smol-toml reports a missing closing quote as "control characters are not
 * allowed in strings" at the end of the line (the newline is the control
 * character), and as "unfinished string" at the opening quote when the file
 * ends first.
 */
function unterminatedString(
  text: string,
  reason: string,
  line: number,
  column: number,
): { line: number; column: number } | null {
  if (/unfinished string/.test(reason)) return { line, column };
  if (!/control characters are not allowed in strings/.test(reason)) return null;
  const row = text.replace(/^\uFEFF/, "").split(/\r?\n/)[line - 1] ?? "";
  // A control character inside the line is what the message says; only the line's end is a missing quote.
  if (column <= row.length) return null;
  let open: { quote: string; at: number } | null = null;
  for (let at = 0; at < row.length; at++) {
    const char = row[at];
    if (open === null) {
      if (char === "#") break;
      if (char === '"' || char === "'") open = { quote: char, at };
    } else if (open.quote === '"' && char === "\\") {
      at++;
    } else if (char === open.quote) {
      open = null;
    }
  }
  return open === null ? null : { line, column: open.at + 1 };
}

function resolveDocument(
  doc: Record<string, unknown>,
  source: string | null,
  baseDir: string,
  options: ParseOptions,
  checks: ShapeChecks,
): SensordConfig {
  const problems = new Problems();
  checks.topLevel(doc, problems);
  const sensors = resolveSensors(doc.sensors, baseDir, problems, checks);
  const device = resolveDevice(doc.device, options.machine ?? machineDefaults(), problems);
  const config: SensordConfig = {
    source,
    device,
    storage: resolveStorage(doc.storage, baseDir, problems),
    log: resolveLog(doc.log, problems),
    sensors,
    ...resolveThresholds(doc.thresholds, asTable(doc.thresholds_preset), sensors, problems),
    sync: resolveSync(doc.sync, baseDir, problems),
    mqtt: resolveMqtt(doc.mqtt, baseDir, device.id, problems),
    control: resolveControl(doc.control, baseDir, problems),
    http: resolveHttp(doc.http, problems, baseDir),
  };
  if (problems.list.length > 0) throw new ConfigError(source, sortProblems(problems.list));
  return config;
}
