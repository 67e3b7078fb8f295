import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { connectFailure, controlRequest, DaemonDown } from "../../cli/control-client.js";
import { CliExit } from "../../cli/exit.js";
import {
  type OverrideContext,
  removeRule,
  resetOverride,
  setOverride,
} from "../../daemon/control/overrides.js";
import { applyOverrides } from "../../daemon/control/rules.js";
import { openDatabase } from "../../daemon/store/open.js";
import { ThresholdOverrideTable } from "../../daemon/store/overrides.js";
import { SAFETY_RULES } from "../../daemon/thresholds/presets.js";
import type { ThresholdRule } from "../../schemas/config-types.js";
import { memoryLogger, tempDir } from "../store/helpers.js";
import { SAFETY_AND_CO50 as CONFIG } from "./fixtures.js";

const rule = (
  fields: Partial<ThresholdRule> & Pick<ThresholdRule, "gas" | "value">,
): ThresholdRule => ({
  op: ">=",
  unit: null,
  clear: null,
  forMs: 0,
  severity: "warning",
  sensor: null,
  ...fields,
});

describe("applyOverrides", () => {
  it("labels each rule with its origin and lets an override replace its slot", () => {
    const effective = applyOverrides(CONFIG.thresholds, CONFIG.thresholdPreset, [
      {
        slot: { gas: "no2", severity: "warning", sensor: null },
        rule: rule({ gas: "no2", value: 40 }),
        updatedAtMs: 1,
      },
      { slot: { gas: "h2", severity: "critical", sensor: null }, rule: null, updatedAtMs: 2 },
    ]);
    expect(effective.rules.map((entry) => [entry.origin, entry.key, entry.replaces])).toEqual([
      ["preset", "co>=200ppm:critical", []],
      ["preset", "c2h5oh>=1000ppm:warning", []],
      ["preset", "h2>=4000ppm:warning", []],
      ["config", "co>=50ppm:warning", []],
      ["override", "no2>=40:warning", ["no2>=88ppb:warning"]],
    ]);
    expect(effective.removed).toEqual([
      {
        slot: { gas: "h2", severity: "critical", sensor: null },
        removes: ["h2>=10000ppm:critical"],
      },
    ]);
  });

  it("without overrides is exactly the config's rules", () => {
    const effective = applyOverrides(SAFETY_RULES, "safety", []);
    expect(effective.rules.map((entry) => entry.rule)).toEqual(SAFETY_RULES);
    expect(effective.rules.every((entry) => entry.origin === "preset")).toBe(true);
  });
});

describe("overrides stored in the database", () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  function context(fleet: OverrideContext["fleet"] = null): OverrideContext {
    const dir = tempDir();
    cleanup = dir.cleanup;
    const db = openDatabase(dir.file(), { log: memoryLogger() });
    const prior = cleanup;
    cleanup = () => {
      db.close();
      prior();
    };
    let now = 1000;
    return {
      table: new ThresholdOverrideTable(db, dir.file()),
      config: CONFIG,
      fleet,
      now: () => now++,
    };
  }

  it("set, rm and reset round-trip through a real SQLite file", () => {
    const ctx = context();
    const set = setOverride(
      ctx,
      rule({ gas: "no2", value: 40, unit: "ppb", clear: 35, forMs: 30_000 }),
    );
    expect(set).toMatchObject({
      ok: true,
      message: "no2>=40ppb:warning: replaces no2>=88ppb:warning (preset)",
    });
    expect(ctx.table.list()).toEqual([
      {
        slot: { gas: "no2", severity: "warning", sensor: null },
        rule: rule({ gas: "no2", value: 40, unit: "ppb", clear: 35, forMs: 30_000 }),
        updatedAtMs: 1000,
      },
    ]);
    // rm of a config rule stores a removal; reset brings the config's rule back.
    const removed = removeRule(ctx, { gas: "co", severity: "warning", sensor: null });
    expect(
      removed.ok &&
        removed.effective.rules.some(
          (entry) => entry.rule.gas === "co" && entry.rule.severity === "warning",
        ),
    ).toBe(false);
    const reset = resetOverride(ctx, { gas: "co", severity: "warning", sensor: null });
    expect(reset).toMatchObject({
      ok: true,
      message: "override co:warning dropped; back to co>=50ppm:warning (config file)",
    });
    // rm of an override-only rule deletes it; a second rm finds nothing.
    setOverride(ctx, rule({ gas: "nh3", value: 25 }));
    expect(removeRule(ctx, { gas: "nh3", severity: "warning", sensor: null })).toMatchObject({
      ok: true,
    });
    expect(removeRule(ctx, { gas: "nh3", severity: "warning", sensor: null })).toMatchObject({
      ok: false,
      status: 404,
    });
    expect(resetOverride(ctx, { gas: "nh3", severity: "warning", sensor: null })).toMatchObject({
      ok: false,
      status: 404,
    });
  });

  it("with a fleet set: set replaces the fleet's rule, rm hides it, reset brings it back (not the config's)", () => {
    const fleetCo = rule({ gas: "co", value: 30, unit: "ppm" });
    const ctx = context({ etag: "g3-0123abcd", rules: [fleetCo] });
    const slot = { gas: "co", severity: "warning", sensor: null } as const;
    expect(setOverride(ctx, rule({ gas: "co", value: 20, unit: "ppm" }))).toMatchObject({
      ok: true,
      message: "co>=20ppm:warning: replaces co>=30ppm:warning (fleet)",
    });
    expect(removeRule(ctx, slot)).toMatchObject({
      ok: true,
      message:
        "removed co>=20ppm:warning; the fleet's (g3-0123abcd) co>=30ppm:warning comes back with `sensorctl threshold reset co`",
    });
    expect(resetOverride(ctx, slot)).toMatchObject({
      ok: true,
      message: "override co:warning dropped; back to co>=30ppm:warning (fleet g3-0123abcd)",
    });
  });

  it.each([
    [rule({ gas: "no2", value: 40, clear: 50 }), "--clear"],
    [rule({ gas: "no2", value: 40, sensor: "gas9" }), "--sensor"],
    [rule({ gas: "no2", value: 40, unit: "V" }), "--unit"],
    [rule({ gas: "no2", value: Number.NaN }), "<value>"],
    [rule({ gas: "no2", value: 40, forMs: -5 }), "--for"],
  ])("refuses %j naming %s, and stores nothing", (bad, field) => {
    const ctx = context();
    const outcome = setOverride(ctx, bad);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.status).toBe(400);
      expect(outcome.problems.map((problem) => problem.field)).toContain(field);
    }
    expect(ctx.table.list()).toEqual([]);
  });
});

describe("sensorctl's socket errors", () => {
  it("maps EACCES/EPERM to exit 77 with the group fix, and no listener to 'not running'", () => {
    for (const code of ["EACCES", "EPERM"]) {
      const mapped = connectFailure(
        "/run/sensord/sensord.sock",
        Object.assign(new Error(code), { code }),
      );
      expect(mapped).toBeInstanceOf(CliExit);
      expect(mapped instanceof CliExit && mapped.exitCode).toBe(77);
      expect(mapped.message).toContain("sensord group");
    }
    for (const code of ["ENOENT", "ECONNREFUSED"]) {
      const mapped = connectFailure(
        "/run/sensord/sensord.sock",
        Object.assign(new Error(code), { code }),
      );
      expect(mapped).toBeInstanceOf(DaemonDown);
      expect(mapped.message).toBe(
        "sensord is not running (nothing answers on /run/sensord/sensord.sock)",
      );
    }
  });

  it("reports a socket file nobody listens on as 'not running'", async () => {
    const dir = tempDir();
    cleanup = dir.cleanup;
    const missing = dir.file("sensord.sock");
    await expect(controlRequest(missing, "GET", "/v1/status")).rejects.toBeInstanceOf(DaemonDown);
    // A server that accepts and hangs up is reachable: its failure is not "not running".
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(missing, resolve));
    try {
      const error = await controlRequest(missing, "GET", "/v1/status").catch(
        (caught: unknown) => caught,
      );
      expect(error).not.toBeInstanceOf(DaemonDown);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
  let cleanup = () => {};
  afterEach(() => cleanup());
});
