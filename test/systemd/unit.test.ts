import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, ROOT } from "../support/processes.js";

const UNIT = join(ROOT, "systemd/sensord.service");

function analyze(args: string[]): { code: number | null; output: string; stdout: string } {
  const result = spawnSync("systemd-analyze", args, { encoding: "utf8" });
  return { code: result.status, output: result.stdout + result.stderr, stdout: result.stdout };
}

describe("systemd/sensord.service", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(() => cleanup());

  /** The unit as install.sh writes it: ExecStart= pointing at an executable that exists. */
  function installedCopy(transform: (text: string) => string = (text) => text): string {
    const bin = join(dir, "sensord");
    writeFileSync(bin, "#!/bin/sh\n");
    chmodSync(bin, 0o755);
    const path = join(dir, "sensord.service");
    writeFileSync(
      path,
      transform(readFileSync(UNIT, "utf8").replace(/^ExecStart=\S+/m, `ExecStart=${bin}`)),
    );
    return path;
  }

  it("passes systemd-analyze verify without a single warning", () => {
    expect(analyze(["verify", installedCopy()])).toMatchObject({ code: 0, output: "" });
  });

  it("is checked by verify for real: a typo is reported", () => {
    const broken = installedCopy((text) => text.replace("Type=notify", "Type=notifyy"));
    expect(analyze(["verify", broken]).output).toContain("Failed to parse service type");
  });

  it("has an exposure of at most 2.0, the figure the README gives", () => {
    const { code, output } = analyze(["security", "--offline=true", UNIT]);
    expect(code).toBe(0);
    const figure = /Overall exposure level for sensord\.service: (\d+\.\d+)/.exec(output)?.[1];
    expect(Number(figure)).toBeLessThanOrEqual(2.0);
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain(`rates it **${figure}**`);
  });

  it("keeps off the settings that would break V8 or the sensors, and runs Type=notify with a watchdog", () => {
    const { stdout } = analyze(["security", "--offline=true", "--json=short", UNIT]);
    const checks = new Map(
      (JSON.parse(stdout) as Array<{ name: string; set: boolean }>).map((check) => [
        check.name,
        check.set,
      ]),
    );
    // V8's JIT needs writable+executable memory; /dev/i2c-1 and /dev/ttyAMA0 must stay visible.
    expect(checks.get("MemoryDenyWriteExecute=")).toBe(false);
    expect(checks.get("PrivateDevices=")).toBe(false);
    expect(checks.get("User=/DynamicUser=")).toBe(true);
    expect(checks.get("NoNewPrivileges=")).toBe(true);
    const text = readFileSync(UNIT, "utf8");
    for (const line of [
      "Type=notify",
      "NotifyAccess=all",
      "WatchdogSec=30s",
      "Restart=on-failure",
      "DevicePolicy=closed",
      "DeviceAllow=char-i2c rw",
      "DeviceAllow=char-ttyAMA rw",
      "SupplementaryGroups=i2c dialout",
      "ExecReload=/bin/kill -HUP $MAINPID",
    ]) {
      expect(text.split("\n")).toContain(line);
    }
  });
});

describe("systemd/sensord-ingest@.service", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(() => cleanup());

  /** An instance of the template (port 8787) with ExecStart= pointing at an executable that exists. */
  function instance(transform: (text: string) => string = (text) => text): string {
    const bin = join(dir, "sensord-ingest");
    writeFileSync(bin, "#!/bin/sh\n");
    chmodSync(bin, 0o755);
    const path = join(dir, "sensord-ingest@8787.service");
    const text = readFileSync(join(ROOT, "systemd/sensord-ingest@.service"), "utf8");
    writeFileSync(path, transform(text.replace(/^ExecStart=\S+/m, `ExecStart=${bin}`)));
    return path;
  }

  it("passes systemd-analyze verify, and verify catches a typo", () => {
    expect(analyze(["verify", instance()])).toMatchObject({ code: 0, output: "" });
    expect(
      analyze(["verify", instance((text) => text.replace("Type=exec", "Type=execc"))]).output,
    ).toContain("Failed to parse service type");
  });

  it("takes its secrets as credentials, listens on the instance's port on loopback, and rates at most 1.5", () => {
    const text = readFileSync(join(ROOT, "systemd/sensord-ingest@.service"), "utf8");
    expect(text).toContain("--listen 127.0.0.1:%i");
    expect(text).toContain(`--db-password-file $${"{"}CREDENTIALS_DIRECTORY}/db-password`);
    expect(text).toContain("LoadCredential=db-password:/etc/sensord-ingest/db-password");
    // The URL carries no password: sensord-ingest refuses one in argv.
    expect(text).toMatch(/--db postgres:\/\/[a-z_]+@/);
    const { code, output } = analyze(["security", "--offline=true", instance()]);
    expect(code).toBe(0);
    const figure = /Overall exposure level for sensord-ingest@8787\.service: (\d+\.\d+)/.exec(
      output,
    )?.[1];
    expect(Number(figure)).toBeLessThanOrEqual(1.5);
  });
});
