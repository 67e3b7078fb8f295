import { readFileSync } from "node:fs";

/** The package version, read once from package.json (two levels up from both src and dist). */
function readVersion(): string {
  for (const candidate of ["../package.json", "../../package.json"]) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(new URL(candidate, import.meta.url), "utf8"));
      if (
        typeof parsed === "object" &&
        parsed !== null &&
        "name" in parsed &&
        parsed.name === "sensord" &&
        "version" in parsed
      ) {
        return String(parsed.version);
      }
    } catch {
      // not at this level; try the next
    }
  }
  return "0.0.0";
}

export const VERSION = readVersion();
