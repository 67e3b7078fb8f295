import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, ROOT, sensorctl } from "../support/processes.js";

const INSTALL = join(ROOT, "systemd/install.sh");
const UNINSTALL = join(ROOT, "systemd/uninstall.sh");
const EXAMPLE = join(ROOT, "systemd/sensord.example.toml");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bash(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  // By absolute path: `env` may carry a PATH without bash on it.
  const result = spawnSync("/bin/bash", [script, ...args], { encoding: "utf8", env });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every path under `root` with its mode, size and mtime: what "changed nothing" compares. */
function snapshot(root: string): string[] {
  const entries: string[] = [];
  const walk = (path: string) => {
    const stat = statSync(path);
    entries.push(
      `${relative(root, path) || "."} ${(stat.mode & 0o7777).toString(8)} ${stat.size} ${stat.mtimeMs}`,
    );
    if (stat.isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
  };
  walk(root);
  return entries;
}

function mode(path: string): string {
  return (statSync(path).mode & 0o7777).toString(8);
}

describe("systemd/install.sh and uninstall.sh", () => {
  let dir: string;
  let cleanup: () => void;
  let root: string;
  let bin: string;

  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    root = join(dir, "root");
    mkdirSync(join(root, "etc"), { recursive: true });
    // The target's groups, as on Raspberry Pi OS.
    writeFileSync(join(root, "etc/group"), "root:x:0:\ndialout:x:20:pi\ni2c:x:998:pi\n");
    bin = join(dir, "bin/sensord");
    mkdirSync(join(dir, "bin"));
    writeFileSync(bin, "#!/bin/sh\n");
    chmodSync(bin, 0o755);
  });
  afterEach(() => cleanup());

  it("--dry-run prints every action and runs none of them", () => {
    // Stand-ins that would leave a trace if the dry run ran anything.
    const stubs = join(dir, "stubs");
    mkdirSync(stubs);
    const trace = join(dir, "ran");
    for (const tool of ["groupadd", "useradd", "usermod", "install", "chown", "systemctl"]) {
      writeFileSync(join(stubs, tool), `#!/bin/sh\necho "${tool} $*" >> ${trace}\n`);
      chmodSync(join(stubs, tool), 0o755);
    }
    const env = { ...process.env, PATH: `${stubs}:${process.env.PATH}` };
    const { code, stdout } = bash(INSTALL, ["--dry-run", "--bin", bin], env);

    expect(code).toBe(0);
    expect(existsSync(trace)).toBe(false);
    const lines = stdout.split("\n");
    expect(lines[0]).toBe("# dry run: printing what would be done, changing nothing");
    // This machine's accounts decide whether they would be created or are there.
    expect(lines).toContainEqual(
      expect.stringMatching(/^(\+ groupadd --system sensord|= group sensord: present)$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^(\+ useradd --system --gid sensord --home-dir \/var\/lib\/sensord --no-create-home --shell \/usr\/sbin\/nologin --comment sensord\\ gas-sensor\\ daemon sensord|= user sensord: present)$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^(\+ install -d -m 0750 -o root -g sensord \/etc\/sensord|= \/etc\/sensord: present, mode 0750)$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^(\+ install -d -m 0750 -o sensord -g sensord \/var\/lib\/sensord|= \/var\/lib\/sensord: present, mode 0750)$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^(\+ install -m 0640 -o root -g sensord \S+\/systemd\/sensord\.example\.toml \/etc\/sensord\/sensord\.toml|= \/etc\/sensord\/sensord\.toml: present, kept as it is)$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^\+ install -m 0644 \S+ \/etc\/systemd\/system\/sensord\.service$/),
    );
    expect(lines).toContain("+ systemctl daemon-reload");
    expect(lines).toContain("+ systemctl enable --now sensord.service");
  });

  it("installs into a throwaway root with the right modes, and a second run changes nothing", () => {
    const first = bash(INSTALL, ["--root", root, "--bin", bin]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("+ useradd --system --gid sensord");
    expect(first.stdout).toContain("+ usermod --append --groups i2c sensord   # skipped: --root");
    expect(first.stdout).toContain("+ systemctl enable --now sensord.service   # skipped: --root");

    expect(mode(join(root, "etc/sensord"))).toBe("750");
    expect(mode(join(root, "var/lib/sensord"))).toBe("750");
    const config = join(root, "etc/sensord/sensord.toml");
    expect(mode(config)).toBe("640");
    expect(readFileSync(config, "utf8")).toBe(readFileSync(EXAMPLE, "utf8"));
    const unitPath = join(root, "etc/systemd/system/sensord.service");
    expect(mode(unitPath)).toBe("644");
    const unit = readFileSync(unitPath, "utf8").split("\n");
    expect(unit).toContain(`ExecStart=${bin} --config /etc/sensord/sensord.toml`);
    expect(unit).toContain("SupplementaryGroups=i2c dialout");
    // The installed unit, with its real ExecStart, verifies cleanly too.
    const verify = spawnSync("systemd-analyze", ["verify", unitPath], { encoding: "utf8" });
    expect([verify.status, verify.stdout + verify.stderr]).toEqual([0, ""]);

    const before = snapshot(root);
    const second = bash(INSTALL, ["--root", root, "--bin", bin]);
    expect(second.code).toBe(0);
    expect(snapshot(root)).toEqual(before);
    expect(second.stdout).not.toMatch(/^\+ install/m);
    expect(second.stdout).not.toContain("daemon-reload");
    expect(second.stdout).toContain("= /etc/sensord/sensord.toml: present, kept as it is");
    expect(second.stdout).toContain("= /etc/systemd/system/sensord.service: up to date");
  });

  it("installs an example config that sensorctl config check accepts", () => {
    expect(bash(INSTALL, ["--root", root, "--bin", bin]).code).toBe(0);
    const config = join(root, "etc/sensord/sensord.toml");
    const check = sensorctl(["config", "check", config]);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
    expect(check.stdout.split("\n")[0]).toBe(`# ${config}: valid`);
    expect(check.stdout).toContain('driver = "grove-mics6814"');
  });

  it("has commented-out alternatives that are valid once uncommented", () => {
    const apiKey = join(dir, "api-key");
    writeFileSync(apiKey, "k3y\n", { mode: 0o600 });
    const uncommented = readFileSync(EXAMPLE, "utf8")
      .split("\n")
      .map((line) => (/^# ([a-z_0-9]+ = |\[)/.test(line) ? line.slice(2) : line))
      .join("\n")
      .replace("/etc/sensord/api-key", apiKey);
    const path = join(dir, "everything.toml");
    writeFileSync(path, uncommented);
    const check = sensorctl(["config", "check", path]);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
    for (const driver of ["grove-mics6814", "grove-gm", "winsen-ze", "sim"]) {
      expect(check.stdout).toContain(`driver = "${driver}"`);
    }
    expect(check.stdout).toContain("[sync]");
    expect(check.stdout).toContain("[mqtt]");
  });

  it("keeps an edited config, rewrites the unit when sensord moved, and drops absent device groups", () => {
    writeFileSync(join(root, "etc/group"), "root:x:0:\ndialout:x:20:\n");
    expect(bash(INSTALL, ["--root", root, "--bin", bin]).code).toBe(0);
    const config = join(root, "etc/sensord/sensord.toml");
    writeFileSync(config, '[device]\nid = "edited"\n');
    const moved = join(dir, "bin/sensord-2");
    writeFileSync(moved, "#!/bin/sh\n");
    chmodSync(moved, 0o755);

    const again = bash(INSTALL, ["--root", root, "--bin", moved, "--no-start"]);
    expect(again.code).toBe(0);
    expect(readFileSync(config, "utf8")).toBe('[device]\nid = "edited"\n');
    const unit = readFileSync(join(root, "etc/systemd/system/sensord.service"), "utf8").split("\n");
    expect(unit).toContain(`ExecStart=${moved} --config /etc/sensord/sensord.toml`);
    expect(unit).toContain("SupplementaryGroups=dialout");
    expect(again.stdout).toContain("= group i2c: absent on this system, not used");
    expect(again.stdout).toContain("+ systemctl daemon-reload   # skipped: --root");
    expect(again.stdout).toContain("+ systemctl enable sensord.service   # skipped: --root");
  });

  it("uninstall removes the unit and keeps config and database; --purge removes them too", () => {
    expect(bash(INSTALL, ["--root", root, "--bin", bin]).code).toBe(0);
    const database = join(root, "var/lib/sensord/sensord.db");
    writeFileSync(database, "readings");

    const kept = bash(UNINSTALL, ["--root", root]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain("+ systemctl disable --now sensord.service   # skipped: --root");
    expect(existsSync(join(root, "etc/systemd/system/sensord.service"))).toBe(false);
    expect(readFileSync(database, "utf8")).toBe("readings");
    expect(existsSync(join(root, "etc/sensord/sensord.toml"))).toBe(true);

    const dry = bash(UNINSTALL, ["--root", root, "--purge", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`+ rm -rf ${join(root, "var/lib/sensord")}`);
    expect(existsSync(database)).toBe(true);

    const purged = bash(UNINSTALL, ["--root", root, "--purge"]);
    expect(purged.code).toBe(0);
    expect(existsSync(join(root, "var/lib/sensord"))).toBe(false);
    expect(existsSync(join(root, "etc/sensord"))).toBe(false);
    expect(purged.stdout).toContain("+ userdel sensord   # skipped: --root");
  });

  it("rejects bad arguments with exit 2 and a missing sensord with the fix", () => {
    const bad = bash(INSTALL, ["--frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("install.sh: unknown argument '--frobnicate'");
    expect(bash(UNINSTALL, ["--root"]).code).toBe(2);

    // A PATH with nothing but what the script needs before it looks for sensord.
    const bare = join(dir, "bare");
    mkdirSync(bare);
    symlinkSync(
      spawnSync("sh", ["-c", "command -v dirname"], { encoding: "utf8" }).stdout.trim(),
      join(bare, "dirname"),
    );
    const missing = bash(INSTALL, ["--dry-run"], { ...process.env, PATH: bare });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("sensord is not on the PATH. Install the package first:");
  });
});
