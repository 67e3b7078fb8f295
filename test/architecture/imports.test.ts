import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { relativeImports, repositoryImports } from "./import-graph.js";
import {
  ALLOWED_IMPORTS,
  CHECKED_FOLDERS,
  cycleImports,
  folderCycles,
  folderGraph,
  formatViolation,
  violations,
} from "./import-rules.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const imports = repositoryImports(ROOT, CHECKED_FOLDERS);

describe("import direction between top-level folders (issue 13)", () => {
  it("reads the repository's imports", () => {
    // A walk that found nothing would pass every rule below.
    expect(imports.filter((entry) => entry.file.startsWith("core/")).length).toBeGreaterThan(0);
    expect(imports.length).toBeGreaterThan(1000);
  });

  it("has no import the direction table forbids", () => {
    const found = violations(imports).map(formatViolation);
    expect(found, `forbidden imports:\n${found.join("\n")}`).toEqual([]);
  });

  it("has no import cycle between top-level folders", () => {
    const found = folderCycles(folderGraph(imports)).map(
      (cycle) => `${cycle.join(" <-> ")}:\n  ${cycleImports(imports, cycle).join("\n  ")}`,
    );
    expect(found, `import cycles:\n${found.join("\n")}`).toEqual([]);
  });

  it("allows no cycle in the table itself: every folder sits above the ones it may import", () => {
    const table = new Map(
      Object.entries(ALLOWED_IMPORTS).map(([folder, allowed]) => [folder, new Set(allowed)]),
    );
    expect(folderCycles(table)).toEqual([]);
  });
});

describe("the import checker", () => {
  it("finds static, type-only, re-export and dynamic imports, and ignores packages and comments", () => {
    const text = [
      'import { a } from "../daemon/a.js";',
      'import type { B } from "../sync/b.js";',
      'export { c } from "./c.js";',
      'const d = await import("../cloud/d.js");',
      'import { readFileSync } from "node:fs";',
      'import cron from "node-cron";',
      '// see "../web/e.js"',
    ].join("\n");
    expect(relativeImports("core/x.ts", text).map((entry) => entry.target)).toEqual([
      "daemon/a.ts",
      "sync/b.ts",
      "core/c.ts",
      "cloud/d.ts",
    ]);
  });

  it("names the file, the import and the rule it breaks", () => {
    const found = violations(
      relativeImports("core/errors.ts", 'import { x } from "../daemon/store/rows.js";'),
    );
    expect(found.map(formatViolation)).toEqual([
      'core/errors.ts imports "../daemon/store/rows.js" (daemon/store/rows.ts): core/ may import only node: and npm packages',
    ]);
  });

  it("lets wiring import mechanisms and not the other way, allows core/ and schemas/, lets test/ import anything", () => {
    const entries = [
      ...relativeImports("cloud/core/x.ts", 'import "../../daemon/errors.js";'),
      ...relativeImports("cloud/core/y.ts", 'import "../../core/errors.js";'),
      ...relativeImports("cloud/core/z.ts", 'import "../../schemas/batch.js";'),
      ...relativeImports("daemon/daemon.ts", 'import "../sync/queue.js";'),
      ...relativeImports("sync/worker.ts", 'import "../daemon/store/rows.js";'),
      ...relativeImports("cli/main.ts", 'import "../daemon/store/open.js";'),
      ...relativeImports("daemon/x.ts", 'import "../cli/main.js";'),
      ...relativeImports("test/x.test.ts", 'import "../daemon/daemon.js";'),
      ...relativeImports("schemas/x.ts", 'import "../sync/queue.js";'),
    ];
    expect(violations(entries).map(formatViolation)).toEqual([
      'cloud/core/x.ts imports "../../daemon/errors.js" (daemon/errors.ts): cloud/ may import only core/, schemas/, web/, node: and npm packages',
      'sync/worker.ts imports "../daemon/store/rows.js" (daemon/store/rows.ts): sync/ may import only core/, schemas/, node: and npm packages',
      'daemon/x.ts imports "../cli/main.js" (cli/main.ts): daemon/ may import only core/, schemas/, sync/, web/, node: and npm packages',
      'schemas/x.ts imports "../sync/queue.js" (sync/queue.ts): schemas/ may import only core/, node: and npm packages',
    ]);
  });

  it("keeps bench/'s tests out of test/: test/ may not import bench/, bench/ may import test/", () => {
    const entries = [
      ...relativeImports("test/x.test.ts", 'import "../bench/report.js";'),
      ...relativeImports("bench/drivers.ts", 'import "../test/support/i2c/bus.js";'),
      ...relativeImports("bench/test/x.test.ts", 'import "../report.js";'),
    ];
    expect(violations(entries).map((found) => found.import.file)).toEqual(["test/x.test.ts"]);
  });

  it("finds a cycle around three folders", () => {
    const entries = [
      ...relativeImports("cli/a.ts", 'import "../daemon/b.js";'),
      ...relativeImports("daemon/b.ts", 'import "../sync/c.js";'),
      ...relativeImports("sync/c.ts", 'import "../cli/a.js";'),
      ...relativeImports("sync/c.ts", 'import "../core/d.js";'),
    ];
    expect(folderCycles(folderGraph(entries))).toEqual([["cli", "daemon", "sync"]]);
  });
});
