import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, sep } from "node:path";
import ts from "typescript";

/** One relative import (static, `export ... from`, or dynamic `import("...")`) between repository files. */
export interface SourceImport {
  /** Importing file, repository-relative with `/` separators, e.g. `sync/worker.ts`. */
  file: string;
  /** The specifier as written, e.g. `../schemas/config-types.js`. */
  specifier: string;
  /** The file it names, repository-relative, `.js` read as the `.ts` source it compiles from. */
  target: string;
}

/** Build output, installed packages and generated CDK output hold no source of ours. */
const SKIPPED_DIRECTORIES = new Set(["node_modules", "dist", "cdk.out", ".git"]);

/** Every `.ts` file under `folders` (repository-relative), sorted. */
export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (directory: string): void => {
    for (const entry of readdirSync(join(root, directory), { withFileTypes: true })) {
      const path = `${directory}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) walk(path);
      } else if (entry.name.endsWith(".ts")) {
        files.push(path);
      }
    }
  };
  for (const folder of folders) walk(folder);
  return files.sort();
}

/**
 * The relative imports of one file's text. TypeScript's own pre-processor
 * finds them (import/export declarations, `import type`, `import("...")`),
 * so comments and strings that merely mention a path are not imports.
 * Package and `node:` specifiers are left out: they cross no folder of ours.
 */
export function relativeImports(file: string, text: string): SourceImport[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .filter(({ fileName }) => fileName.startsWith("./") || fileName.startsWith("../"))
    .map(({ fileName }) => ({
      file,
      specifier: fileName,
      target: normalize(join(dirname(file), fileName))
        .split(sep)
        .join("/")
        .replace(/\.js$/, ".ts"),
    }));
}

/** The relative imports of every `.ts` file under `folders`. */
export function repositoryImports(root: string, folders: readonly string[]): SourceImport[] {
  return sourceFiles(root, folders).flatMap((file) =>
    relativeImports(file, readFileSync(join(root, file), "utf8")),
  );
}

/** `daemon/store/rows.ts` -> `daemon`; a file at the repository root (or outside it) -> `.`. */
export function topLevelFolder(path: string): string {
  const slash = path.indexOf("/");
  return slash === -1 || path.startsWith("../") ? "." : path.slice(0, slash);
}
