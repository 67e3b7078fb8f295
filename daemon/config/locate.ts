import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../../core/errors.js";

export const DEFAULT_CONFIG_PATH = "/etc/sensord/sensord.toml";
export const CONFIG_ENV = "SENSORD_CONFIG";

export interface LocateOptions {
  /** `--config FILE`, if given. */
  flagPath?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** `--simulate`: a missing default file means "use the built-in defaults". */
  simulate: boolean;
  /** Relative paths resolve against this. Default: process.cwd(). */
  cwd?: string;
  /** Overridable for tests (the real default lives under /etc). */
  defaultPath?: string;
  /** What --simulate does for this program, for the "no config file" message. Default: sensord's. */
  simulateHint?: string;
}

/** Where the config comes from; `from` names what to fix when the file is missing or unreadable. */
export type ConfigLocation =
  | { path: string; from: "--config" | typeof CONFIG_ENV | "default" }
  | { path: null; from: "simulate" };

/**
 * `--config FILE`, else `$SENSORD_CONFIG`, else /etc/sensord/sensord.toml.
 * A path given explicitly must exist (load reports it otherwise), even with
 * --simulate: a typo in --config must not silently run simulated sensors.
 */
export function locateConfig(options: LocateOptions): ConfigLocation {
  const cwd = options.cwd ?? process.cwd();
  if (options.flagPath !== undefined && options.flagPath !== "") {
    return { path: resolve(cwd, options.flagPath), from: "--config" };
  }
  const fromEnv = options.env[CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv !== "") {
    return { path: resolve(cwd, fromEnv), from: CONFIG_ENV };
  }
  const path = options.defaultPath ?? DEFAULT_CONFIG_PATH;
  if (existsSync(path)) return { path, from: "default" };
  if (options.simulate) return { path: null, from: "simulate" };
  throw new ConfigError(path, [
    {
      key: "config file",
      message:
        `${path} does not exist; create it, ` +
        `or pass --config FILE (or set ${CONFIG_ENV}=FILE), ` +
        `or ${options.simulateHint ?? "run with --simulate to use built-in simulated sensors"}`,
    },
  ]);
}

/** The problem key for a file that cannot be read: where its path came from. */
export function locationKey(from: ConfigLocation["from"]): string {
  switch (from) {
    case "--config":
      return "--config";
    case CONFIG_ENV:
      return CONFIG_ENV;
    default:
      return "config file";
  }
}

/** How to point sensord at another file, for messages about an unusable one. */
export function locationFix(from: ConfigLocation["from"]): string {
  switch (from) {
    case "--config":
      return "check the path given to --config";
    case CONFIG_ENV:
      return `check the path in ${CONFIG_ENV}`;
    default:
      return `pass --config FILE (or set ${CONFIG_ENV}) to use another file`;
  }
}
