import type { SensordConfig } from "../../schemas/config-types.js";
import { compiledChecks, ShapeMismatch } from "./compiled-checks.js";
import { type LoadOptions, loadConfigWith } from "./resolve.js";

/**
 * The daemon's config loader: the generated validators decide whether the
 * file's shape is right, so a running sensord never loads TypeBox. A file
 * they reject is loaded again through load.ts, whose messages name each bad
 * key and its fix exactly as sensorctl's and the tests' do.
 */
export async function loadDaemonConfig(options: LoadOptions): Promise<SensordConfig> {
  try {
    return loadConfigWith(compiledChecks, options);
  } catch (error) {
    if (!(error instanceof ShapeMismatch)) throw error;
    const { loadConfig } = await import("./load.js");
    return loadConfig(options);
  }
}
