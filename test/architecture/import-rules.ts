import { type SourceImport, topLevelFolder } from "./import-graph.js";

/**
 * Which top-level folders each folder may import, lowest layer first. `core/`
 * holds the basics everything shares and imports only `node:` and npm
 * packages; `schemas/` holds the wire and config contracts; the programs
 * (daemon, outputs, ingest, dashboard, CLI) build on both and not on each
 * other. demo/, bench/ and test/ sit on top and may import anything.
 */
export const ALLOWED_IMPORTS: Readonly<Record<string, readonly string[] | "any">> = {
  core: [],
  schemas: ["core"],
  sync: ["core", "schemas"],
  web: ["core", "schemas"],
  daemon: ["core", "schemas", "sync", "web"],
  cloud: ["core", "schemas", "web"],
  cli: ["core", "schemas", "sync", "daemon"],
  demo: "any",
  bench: "any",
  test: "any",
};

/** The folders the rule covers: every top-level folder with TypeScript in it. */
export const CHECKED_FOLDERS = Object.keys(ALLOWED_IMPORTS);

/**
 * An import the rule forbids that exists today and needs issue 13's deeper
 * redesign rather than a file move. `from` and `to` are repository-relative
 * prefixes (a file or a folder ending in `/`). Remove the entry with the
 * import it covers: an entry nothing matches fails the test.
 */
export interface KnownException {
  from: string;
  to: string;
  reason: string;
  issue: number;
}

export const KNOWN_EXCEPTIONS: readonly KnownException[] = [];

/**
 * Import cycles between top-level folders that exist today. Each is also a
 * set of known exceptions above, except where both folders sit on top.
 */
export interface KnownCycle {
  folders: readonly string[];
  reason: string;
  issue: number;
}

export const KNOWN_CYCLES: readonly KnownCycle[] = [
  {
    folders: ["bench", "test"],
    reason: "bench reuses test/support's emulators and PostgreSQL; tests cover bench's pure parts",
    issue: 13,
  },
];

export interface Violation {
  import: SourceImport;
  rule: string;
}

function allowedTargets(folder: string): readonly string[] | "any" {
  return ALLOWED_IMPORTS[folder] ?? [];
}

function describeAllowed(folder: string): string {
  const allowed = allowedTargets(folder);
  if (allowed === "any") return `${folder}/ may import anything`;
  if (allowed.length === 0) return `${folder}/ may import only node: and npm packages`;
  return `${folder}/ may import only ${allowed.map((name) => `${name}/`).join(", ")}, node: and npm packages`;
}

/** Whether the direction table allows this import (same folder always is). */
export function allowedByTable(entry: SourceImport): boolean {
  const from = topLevelFolder(entry.file);
  const to = topLevelFolder(entry.target);
  if (from === to) return true;
  const allowed = allowedTargets(from);
  return allowed === "any" || allowed.includes(to);
}

export function matchesException(entry: SourceImport, exception: KnownException): boolean {
  return entry.file.startsWith(exception.from) && entry.target.startsWith(exception.to);
}

/** Imports the table forbids and no known exception covers, each with the rule it breaks. */
export function violations(
  imports: readonly SourceImport[],
  exceptions: readonly KnownException[] = KNOWN_EXCEPTIONS,
): Violation[] {
  return imports
    .filter((entry) => !allowedByTable(entry))
    .filter((entry) => !exceptions.some((exception) => matchesException(entry, exception)))
    .map((entry) => ({ import: entry, rule: describeAllowed(topLevelFolder(entry.file)) }));
}

/** Known exceptions that match no import any more: the import went, so must the entry. */
export function staleExceptions(
  imports: readonly SourceImport[],
  exceptions: readonly KnownException[] = KNOWN_EXCEPTIONS,
): KnownException[] {
  return exceptions.filter(
    (exception) =>
      !imports.some((entry) => !allowedByTable(entry) && matchesException(entry, exception)),
  );
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
