import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../core/errors.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Shaped like a code but an environment variable the READMEs name. */
const ENVIRONMENT_VARIABLES = new Set(["SENSORD_CONFIG", "AWS_REGION", "AWS_PROFILE"]);

function readme(path: string): string {
  return readFileSync(`${ROOT}/${path}`, "utf8");
}

/** Every distinct code-shaped word in `text`, sorted. */
function namedCodes(text: string, pattern: RegExp): string[] {
  return [...new Set(text.match(pattern) ?? [])].sort();
}

/** The codes in the first column of the markdown table under the `| code | when |` header. */
function codeTable(text: string): string[] {
  const start = text.indexOf("| code | when |");
  expect(start, "the README has no `| code | when |` table").toBeGreaterThanOrEqual(0);
  const rows = text.slice(start).split("\n").slice(2);
  const codes: string[] = [];
  for (const row of rows) {
    const cell = /^\| `([A-Z0-9_]+)` \|/.exec(row);
    if (cell?.[1] === undefined) break;
    codes.push(cell[1]);
  }
  return codes.sort();
}

const sorted = (group: Readonly<Record<string, string>>): string[] => Object.values(group).sort();

describe("ERROR_CODES, the one code set", () => {
  it("gives every failure its own string", () => {
    const all = Object.values(ERROR_CODES).flatMap((group) => Object.values(group));
    const repeated = all.filter((code, index) => all.indexOf(code) !== index);
    expect(repeated).toEqual([]);
  });

  it("is exactly what the PostgreSQL store's README lists", () => {
    expect(codeTable(readme("cloud/store/postgres/README.md"))).toEqual(
      sorted(ERROR_CODES.postgres),
    );
  });

  it("is exactly what the OpenSearch store's README lists", () => {
    expect(codeTable(readme("cloud/store/opensearch/README.md"))).toEqual(
      sorted(ERROR_CODES.opensearch),
    );
  });

  it("answers on the ingest's HTTP API exactly the codes cloud/README.md documents", () => {
    const documented = namedCodes(readme("cloud/README.md"), /\bINGEST_(?!PG_|OS_)[A-Z_]+\b/g);
    expect(documented).toEqual(
      [...sorted(ERROR_CODES.ingest), ERROR_CODES.aws.lambdaConfig].sort(),
    );
  });

  it("holds every code a README names, so none documents a code that no longer exists", () => {
    const known = new Set<string>(
      Object.values(ERROR_CODES).flatMap((group) => Object.values(group)),
    );
    const readmes = execFileSync("git", ["ls-files", "*.md"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter((path) => path !== "");
    expect(readmes).toContain("cloud/README.md");
    const unknown = readmes.flatMap((path) =>
      namedCodes(readme(path), /\b(?:SENSORD|INGEST|AWS)_[A-Z0-9_]+\b/g)
        .filter((code) => !known.has(code) && !ENVIRONMENT_VARIABLES.has(code))
        .map((code) => `${path}: ${code}`),
    );
    expect(unknown).toEqual([]);
  });
});
