import type { SensordConfig } from "../../schemas/config-types.js";
import { explainedChecks } from "./explained-checks.js";
import {
  defaultConfigWith,
  type LoadOptions,
  loadConfigWith,
  type ParseOptions,
  parseConfigWith,
} from "./resolve.js";

export { type LoadOptions, type ParseOptions, SIMULATE_DEFAULTS_TOML } from "./resolve.js";

/**
 * The config loader for sensorctl, tests and the daemon's error path: every
 * shape problem is explained key by key (TypeBox's checker behind
 * explained-checks.ts). The daemon starts through load-daemon.ts, which
 * checks with the generated validators and comes here only for a bad file.
 */

/**
 * Finds, reads and resolves the config (see locate.ts for where it looks).
 * Throws one ConfigError listing every problem found.
 */
export function loadConfig(options: LoadOptions): SensordConfig {
  return loadConfigWith(explainedChecks, options);
}

/** The built-in defaults (`--simulate` without a config file): one sim sensor, database under `cwd`. */
export function defaultConfig(cwd: string, options: ParseOptions = {}): SensordConfig {
  return defaultConfigWith(explainedChecks, cwd, options);
}

/** Parses and resolves config text; `file` is where it came from (relative paths start at its folder). */
export function parseConfig(text: string, file: string, options: ParseOptions = {}): SensordConfig {
  return parseConfigWith(explainedChecks, text, file, options);
}
