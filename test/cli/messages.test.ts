import { describe, expect, it } from "vitest";
import { alert, readings } from "../store/helpers.js";
import { sensorctl } from "../support/processes.js";
import { useStoredConfig } from "./stored-config.js";

const stored = useStoredConfig(() => ({
  // 150 readings from 2026-11-26T10:40:37Z, one a second; 120 alert events.
  readings: readings(0, 150),
  alerts: Array.from({ length: 120 }, (_, i) =>
    alert(i + 1, i + 1, { kind: i % 2 === 0 ? "raise" : "clear" }),
  ),
}));

const ctl = (...args: string[]) => sensorctl(["--config", stored.config(), ...args]);

describe("readings and alerts: when --limit cut the answer", () => {
  it("readings --since: says on stderr that only the newest 100 are shown, and how to see more", () => {
    const result = ctl("readings", "--since", "2026-11-26", "--format", "json");
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(100);
    expect(result.stderr).toBe(
      "sensorctl: showing the newest 100 matching readings; more match: give a larger --limit (e.g. --limit 1000) to see them\n",
    );
  });

  it("says nothing when the limit did not cut", () => {
    const result = ctl("readings", "--since", "2026-11-26", "--limit", "150", "--format", "csv");
    expect(result.stdout.trim().split("\n")).toHaveLength(151);
    expect(result.stderr).toBe("");
  });

  it("alerts too", () => {
    const result = ctl("alerts", "--limit", "50");
    expect(result.stdout.trim().split("\n")).toHaveLength(51);
    expect(result.stderr).toBe(
      "sensorctl: showing the newest 50 alert events; more match: give a larger --limit (e.g. --limit 500) to see them\n",
    );
  });
});

describe("one style for every message", () => {
  it.each([
    [["readings", "--bogus"], "sensorctl: unknown option '--bogus'"],
    [["frobnicate"], "sensorctl: unknown command 'frobnicate'"],
    [["threshold", "set", "co"], "sensorctl: missing required argument 'value'"],
    [
      ["readings", "--format", "xml"],
      "sensorctl: option '--format <table|csv|json>' argument 'xml' is invalid",
    ],
    [["readings", "--limit", "-5"], "sensorctl: option '--limit <n>' argument '-5' is invalid"],
  ])("%j: starts with `sensorctl:` like sensorctl's own, exit 2", (args, start) => {
    const result = ctl(...args);
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith(start)).toBe(true);
    expect(result.stderr).not.toMatch(/^error:/m);
  });
});

describe("--help", () => {
  it.each([
    [["status"]],
    [["readings"]],
    [["alerts"]],
    [["threshold", "list"]],
    [["threshold", "set"]],
    [["threshold", "rm"]],
    [["threshold", "reset"]],
    [["sync", "now"]],
    [["config", "check"]],
    [["watch"]],
  ])("%j shows an example", (args) => {
    const result = sensorctl([...args, "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\nExamples?:\n {2}\$ sensorctl /);
  });

  it("lists the choices of each option", () => {
    expect(sensorctl(["readings", "--help"]).stdout).toContain("--format <table|csv|json>");
    expect(sensorctl(["alerts", "--help"]).stdout).toContain("--format <table|json>");
    const set = sensorctl(["threshold", "set", "--help"]).stdout;
    expect(set).toContain("--severity <warning|critical>");
    expect(set).toContain("--op <>=|>|<=|<>");
    expect(set).toContain("--unit <ppm|ppb|%|V|mV|raw>");
    // Wrapped at the terminal's width: compare the words.
    expect(sensorctl(["readings", "--help"]).stdout.replace(/\s+/g, " ")).toContain(
      "--gas <gas> only this gas: co, no2, c2h5oh, h2, nh3, ch4, c3h8, c4h10, voc, h2s, o2, no",
    );
  });
});
