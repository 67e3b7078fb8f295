import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface PackageJson {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

describe("runtime dependencies", () => {
  it("leave out the demo's MQTT broker: a Pi's install does not carry one it never runs", () => {
    const manifest = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as PackageJson;
    expect(Object.keys(manifest.dependencies)).not.toContain("aedes");
    expect(Object.keys(manifest.devDependencies)).toContain("aedes");
    // test/ is left out: this file and the demo's tests name the package too.
    const importers = execFileSync(
      "git",
      ["grep", "-l", "-E", 'from "aedes"|import\\("aedes"\\)', "--", "*.ts", ":!test"],
      { cwd: ROOT, encoding: "utf8" },
    )
      .split("\n")
      .filter((path) => path !== "");
    expect(importers).toEqual(["demo/broker.ts"]);
  });
});
