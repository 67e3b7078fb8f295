import { type SourceImport, topLevelFolder } from "./import-graph.js";

/**
 * Which top-level folders each folder may import, lowest layer first: shared
 * basics at the bottom, mechanisms above them, wiring on top, and no two
 * folders that import each other, directly or around a loop.
 *
 * - `core/`: errors, log, version, durations, sizes, backoff; only `node:` and npm.
 * - `schemas/`: the wire and config contracts and their types (resolved
 *   config, committed records, ids, driver option schemas).
 * - `sync/` (the outputs) and `web/` (the dashboards' pages and asset server):
 *   mechanisms that see contracts and interfaces only, never the daemon.
 * - `daemon/`: drivers, store and queues (with their SQL), sampler, and the
 *   wiring that hands the outputs what they need.
 * - `cloud/` (sensord-ingest) serves web/'s pages; `cli/` (sensorctl) sits on
 *   the daemon's store, config and control API.
 * - `demo/`, then `test/`, then `bench/`: each may import what is below it.
 *   bench/ reuses test/support's emulators, so bench/'s own tests live in
 *   bench/test/ and test/ may not import bench/.
 *
 * A test rather than Biome's noRestrictedImports: that rule matches the
 * specifier as written, and a relative path names a different folder at every
 * depth; this resolves each import to the folder it lands in.
 */
const BELOW_DEMO = ["core", "schemas", "sync", "web", "daemon", "cloud", "cli"] as const;

export const ALLOWED_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  core: [],
  schemas: ["core"],
  sync: ["core", "schemas"],
  web: ["core", "schemas"],
  daemon: ["core", "schemas", "sync", "web"],
  cloud: ["core", "schemas", "web"],
  cli: ["core", "schemas", "sync", "daemon"],
  demo: BELOW_DEMO,
  test: [...BELOW_DEMO, "demo"],
  bench: [...BELOW_DEMO, "demo", "test"],
};

/** The folders the rule covers: every top-level folder with TypeScript in it. */
export const CHECKED_FOLDERS = Object.keys(ALLOWED_IMPORTS);

export interface Violation {
  import: SourceImport;
  rule: string;
}

function allowedTargets(folder: string): readonly string[] {
  return ALLOWED_IMPORTS[folder] ?? [];
}

function describeAllowed(folder: string): string {
  const allowed = allowedTargets(folder);
  if (allowed.length === 0) return `${folder}/ may import only node: and npm packages`;
  return `${folder}/ may import only ${allowed.map((name) => `${name}/`).join(", ")}, node: and npm packages`;
}

/** Whether the direction table allows this import (same folder always is). */
function allowedByTable(entry: SourceImport): boolean {
  const from = topLevelFolder(entry.file);
  const to = topLevelFolder(entry.target);
  return from === to || allowedTargets(from).includes(to);
}

/** Imports the table forbids, each with the rule it breaks. */
export function violations(imports: readonly SourceImport[]): Violation[] {
  return imports
    .filter((entry) => !allowedByTable(entry))
    .map((entry) => ({ import: entry, rule: describeAllowed(topLevelFolder(entry.file)) }));
}

/** `file imports "specifier" (target): rule`, one line a violation. */
export function formatViolation({ import: entry, rule }: Violation): string {
  return `${entry.file} imports "${entry.specifier}" (${entry.target}): ${rule}`;
}

/** Folder -> the folders it imports, from every import between different top-level folders. */
export function folderGraph(imports: readonly SourceImport[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const entry of imports) {
    const from = topLevelFolder(entry.file);
    const to = topLevelFolder(entry.target);
    if (from === to) continue;
    const targets = graph.get(from) ?? new Set<string>();
    targets.add(to);
    graph.set(from, targets);
  }
  return graph;
}

/**
 * Groups of folders that import each other, directly or around a loop
 * (strongly connected components of more than one folder, Tarjan's
 * algorithm), each sorted, the list sorted.
 */
export function folderCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (folder: string): void => {
    index.set(folder, index.size);
    lowLink.set(folder, index.get(folder) ?? 0);
    stack.push(folder);
    onStack.add(folder);
    for (const next of graph.get(folder) ?? []) {
      if (!index.has(next)) {
        visit(next);
        lowLink.set(folder, Math.min(lowLink.get(folder) ?? 0, lowLink.get(next) ?? 0));
      } else if (onStack.has(next)) {
        lowLink.set(folder, Math.min(lowLink.get(folder) ?? 0, index.get(next) ?? 0));
      }
    }
    if (lowLink.get(folder) !== index.get(folder)) return;
    const component: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      onStack.delete(member);
      component.push(member);
      if (member === folder) break;
    }
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const folder of [...graph.keys()].sort()) if (!index.has(folder)) visit(folder);
  return cycles.sort((a, b) => a.join().localeCompare(b.join()));
}

/** The imports that make up one folder cycle, as `file imports "specifier"` lines. */
export function cycleImports(
  imports: readonly SourceImport[],
  folders: readonly string[],
): string[] {
  return imports
    .filter((entry) => {
      const from = topLevelFolder(entry.file);
      const to = topLevelFolder(entry.target);
      return from !== to && folders.includes(from) && folders.includes(to);
    })
    .map((entry) => `${entry.file} imports "${entry.specifier}" (${entry.target})`);
}
