import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { alert, readings } from "../store/helpers.js";
import { cleanEnv, ROOT, SENSORCTL } from "../support/processes.js";
import { useStoredConfig } from "./stored-config.js";

const stored = useStoredConfig(() => ({ readings: readings(0, 5000), alerts: [alert(1, 1)] }));

/**
 * `sensorctl ... | head -1`: the reader goes away. Here it is gone before
 * sensorctl writes anything, so every command meets the closed pipe on its
 * first write, whatever its output's size.
 */
function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SENSORCTL, ...args], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

/** The same, with the reader leaving after the first chunk, as `head -1` does. */
function headOne(args: string[]): Promise<{ code: number | null; stderr: string; first: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SENSORCTL, ...args], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let first = "";
    child.stdout.once("data", (chunk: Buffer) => {
      first = chunk.toString().split("\n")[0] ?? "";
      child.stdout.destroy();
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("close", (code) => resolve({ code, stderr, first }));
  });
}

describe("sensorctl into a pipe that closes", () => {
  it("readings | head -1: the first line, then exit 0 without a stack trace", async () => {
    const result = await headOne(["--config", stored.config(), "readings", "--limit", "5000"]);
    expect(result.first).toMatch(/^TS\s+SENSOR\s+GAS/);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it.each([
    [["readings", "--limit", "5000", "--format", "json"]],
    [["readings", "--limit", "5000", "--format", "csv"]],
    [["alerts"]],
    [["threshold", "list"]],
    [["config", "check"]],
    [["--help"]],
    [["readings", "--help"]],
    [["--version"]],
  ])("%j: a closed pipe is a normal end (exit 0, nothing on stderr)", async (args) => {
    const result = await withClosedStdout(["--config", stored.config(), ...args]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });
});
