import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { StaticFiles } from "./static.js";

/** The repository (or installed package) root: the nearest folder up with a package.json (dist/ has none). */
export const PACKAGE_ROOT = findRoot(import.meta.dirname);

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return resolve(from, "../../..");
  }
}

/** uPlot from node_modules, served by the device itself: a Pi may have no internet. */
export function uplotDir(): string {
  return dirname(createRequire(import.meta.url).resolve("uplot/dist/uPlot.esm.js"));
}

/**
 * What the dashboards load, all under /static/: the compiled page scripts
 * (dist/web/src), the hand-written HTML and CSS (web/assets), and uPlot.
 */
export function dashboardFiles(pages: Record<string, string>): StaticFiles {
  const uplot = uplotDir();
  const assets = resolve(PACKAGE_ROOT, "web/assets");
  const files: Record<string, string> = {
    "/static/js/uplot.js": resolve(uplot, "uPlot.esm.js"),
    "/static/js/uplot.css": resolve(uplot, "uPlot.min.css"),
  };
  for (const [urlPath, page] of Object.entries(pages)) files[urlPath] = resolve(assets, page);
  return new StaticFiles(
    [
      { prefix: "/static/js/", dir: resolve(PACKAGE_ROOT, "dist/web/src") },
      { prefix: "/static/", dir: assets },
    ],
    files,
  );
}
