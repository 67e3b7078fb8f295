import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { ERROR_CODES, SensordError } from "../../../core/errors.js";
import { uplotDir } from "../../../web/server/assets.js";

export class DashboardFilesError extends SensordError {
  constructor(message: string) {
    super(ERROR_CODES.aws.dashboardFiles, message);
  }
}

/**
 * Lays out the fleet page as sensord-ingest serves it (web/server/assets.ts),
 * for a static host: the page as index.html, and under static/ the
 * stylesheet, the compiled scripts (npm run build) and uPlot. Returns `target`.
 */
export function stageDashboard(packageRoot: string, target: string): string {
  const scripts = resolve(packageRoot, "dist/web/src");
  if (!existsSync(join(scripts, "fleet.js"))) {
    throw new DashboardFilesError(
      `${scripts}/fleet.js is missing: run \`npm run build\` before synthesizing (npm run aws:synth does)`,
    );
  }
  rmSync(target, { recursive: true, force: true });
  mkdirSync(join(target, "static/js"), { recursive: true });
  const assets = resolve(packageRoot, "web/assets");
  copyFileSync(join(assets, "fleet.html"), join(target, "index.html"));
  copyFileSync(join(assets, "dashboard.css"), join(target, "static/dashboard.css"));
  cpSync(scripts, join(target, "static/js"), { recursive: true });
  copyFileSync(join(uplotDir(), "uPlot.esm.js"), join(target, "static/js/uplot.js"));
  copyFileSync(join(uplotDir(), "uPlot.min.css"), join(target, "static/js/uplot.css"));
  return target;
}
