import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { ConfigError, type ConfigProblem } from "../../core/errors.js";
import { loadConfig } from "../../daemon/config/load.js";
import type { MachineDefaults } from "../../daemon/config/sections.js";
import type { SensordConfig } from "../../schemas/config-types.js";

/** Fixed, so defaults are predictable on any machine. */
export const MACHINE: MachineDefaults = { hostname: "test-host", timezone: "UTC" };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sensord-config-"));
  dirs.push(dir);
  return dir;
}

/** Writes `text` as `name` in a fresh temp folder and returns its path. */
export function writeConfig(text: string, name = "sensord.toml", dir = tempDir()): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Loads a real file through --config, as the daemon does. */
export function load(path: string): SensordConfig {
  return loadConfig({ flagPath: path, env: {}, simulate: false, machine: MACHINE });
}

/** Writes and loads `text`. */
export function loadText(text: string): SensordConfig {
  return load(writeConfig(text));
}

/** The ConfigError `run` throws; fails the test when it throws nothing or something else. */
export function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError, but the config loaded");
}

/** Problems of loading `text`, as a key -> message map (each key appears at most once). */
export function problemsOf(text: string): Map<string, string> {
  const error = configError(() => loadText(text));
  return new Map(error.problems.map((problem: ConfigProblem) => [problem.key, problem.message]));
}

/** The smallest valid sensors section, for tests about other sections. */
export const ONE_SENSOR = `
[[sensors]]
id = "gas0"
driver = "sim"
`;
