import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { relativeImports, repositoryImports } from "./import-graph.js";
import {
  CHECKED_FOLDERS,
  cycleImports,
  folderCycles,
  folderGraph,
  formatViolation,
  KNOWN_CYCLES,
  KNOWN_EXCEPTIONS,
  staleExceptions,
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

  it("has no import the direction table forbids, beyond the known exceptions", () => {
    const found = violations(imports).map(formatViolation);
    expect(found, `forbidden imports:\n${found.join("\n")}`).toEqual([]);
  });

  it("lists no known exception that nothing matches any more", () => {
    const stale = staleExceptions(imports).map(
      (exception) => `${exception.from} -> ${exception.to} (issue ${exception.issue})`,
    );
    expect(stale, `remove these entries from KNOWN_EXCEPTIONS:\n${stale.join("\n")}`).toEqual([]);
  });

  it("has no import cycle between top-level folders beyond the known ones", () => {
    const known = KNOWN_CYCLES.map((cycle) => [...cycle.folders].sort().join(" <-> "));
    const found = folderCycles(folderGraph(imports));
    const unexpected = found
      .filter((cycle) => !known.includes(cycle.join(" <-> ")))
      .map((cycle) => `${cycle.join(" <-> ")}:\n  ${cycleImports(imports, cycle).join("\n  ")}`);
    expect(unexpected, `new import cycles:\n${unexpected.join("\n")}`).toEqual([]);
    expect(
      found.map((cycle) => cycle.join(" <-> ")),
      "a known cycle is gone: remove it from KNOWN_CYCLES",
    ).toEqual([...known].sort());
  });

  it("gives every known exception a reason and the issue that removes it", () => {
    for (const exception of KNOWN_EXCEPTIONS) {
      expect(exception.reason.length, `${exception.from} -> ${exception.to}`).toBeGreaterThan(20);
      expect(exception.issue).toBeGreaterThan(0);
    }
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
    expect(violations(entries, []).map(formatViolation)).toEqual([
      'cloud/core/x.ts imports "../../daemon/errors.js" (daemon/errors.ts): cloud/ may import only core/, schemas/, web/, node: and npm packages',
      'sync/worker.ts imports "../daemon/store/rows.js" (daemon/store/rows.ts): sync/ may import only core/, schemas/, node: and npm packages',
      'daemon/x.ts imports "../cli/main.js" (cli/main.ts): daemon/ may import only core/, schemas/, sync/, web/, node: and npm packages',
      'schemas/x.ts imports "../sync/queue.js" (sync/queue.ts): schemas/ may import only core/, node: and npm packages',
    ]);
  });

  it("lets a known exception cover only its own files", () => {
    const exception = {
      from: "sync/encoder-thread.ts",
      to: "daemon/store/sync-queue.ts",
      reason: "example",
      issue: 13,
    };
    const entries = [
      ...relativeImports("sync/encoder-thread.ts", 'import "../daemon/store/sync-queue.js";'),
      ...relativeImports("sync/worker.ts", 'import "../daemon/store/sync-queue.js";'),
    ];
    expect(violations(entries, [exception]).map((found) => found.import.file)).toEqual([
      "sync/worker.ts",
    ]);
    expect(staleExceptions(entries.slice(1), [exception])).toEqual([exception]);
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
