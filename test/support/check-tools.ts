import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { findPostgresBin } from "./postgres.js";

/**
 * Run by `npm test` before anything else: the suite uses real programs
 * (a broker, a pty pair, a browser, a database), and a fresh machine
 * without one of them should hear so at once, with the line that installs
 * them, not after minutes of ENOENT failures. `.ci/run` installs the same list.
 */
const TOOLS: ReadonlyArray<{ tool: string; found: () => boolean; pkg: string }> = [
  {
    tool: "mosquitto",
    found: () => existsSync("/usr/sbin/mosquitto") || onPath("mosquitto"),
    pkg: "mosquitto",
  },
  { tool: "mosquitto_sub", found: () => onPath("mosquitto_sub"), pkg: "mosquitto-clients" },
  { tool: "mosquitto_pub", found: () => onPath("mosquitto_pub"), pkg: "mosquitto-clients" },
  { tool: "socat", found: () => onPath("socat"), pkg: "socat" },
  { tool: "chromium", found: () => existsSync("/usr/bin/chromium"), pkg: "chromium" },
  { tool: "openssl", found: () => onPath("openssl"), pkg: "openssl" },
  // The demo's fleet-threshold hint is a curl command; its test runs it as printed.
  { tool: "curl", found: () => onPath("curl"), pkg: "curl" },
  { tool: "systemd-analyze", found: () => onPath("systemd-analyze"), pkg: "systemd" },
  { tool: "systemd-notify", found: () => onPath("systemd-notify"), pkg: "systemd" },
  {
    tool: "initdb and postgres",
    found: () => findPostgresBin() !== null && postgresUserOk(),
    pkg: "postgresql",
  },
];

function onPath(name: string): boolean {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .some((folder) => folder !== "" && existsSync(join(folder, name)));
}

/** As root, PostgreSQL runs as the `postgres` user that Debian's package creates. */
function postgresUserOk(): boolean {
  if (process.getuid?.() !== 0) return true;
  return readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .some((line) => line.startsWith("postgres:"));
}

const missing = TOOLS.filter((entry) => !entry.found());
if (missing.length > 0) {
  const packages = [...new Set(missing.map((entry) => entry.pkg))];
  process.stderr.write(
    `npm test: the test suite needs programs this machine does not have: ${missing.map((entry) => entry.tool).join(", ")}\n` +
      `install them (as root) with:\n  apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")}\n`,
  );
  process.exit(1);
}
