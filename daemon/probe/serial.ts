import { readdirSync, realpathSync } from "node:fs";
import { join } from "node:path";

export interface SerialPortEntry {
  path: string;
  /** Where a symlink such as /dev/serial0 points, or null. */
  target: string | null;
}

/** The names a Pi gives its UARTs and USB adapters (serialport's list() needs udevadm; this does not). */
const SERIAL_NAME = /^(serial\d+|ttyAMA\d+|ttyS0|ttyUSB\d+|ttyACM\d+)$/;

export function listSerialPorts(devDir: string): SerialPortEntry[] {
  const entries: SerialPortEntry[] = [];
  let names: string[];
  try {
    names = readdirSync(devDir);
  } catch {
    return [];
  }
  for (const name of names.filter((candidate) => SERIAL_NAME.test(candidate)).sort()) {
    const path = join(devDir, name);
    entries.push({ path, target: resolvedTarget(path) });
  }
  for (const name of safeList(join(devDir, "serial", "by-id")).sort()) {
    const path = join(devDir, "serial", "by-id", name);
    entries.push({ path, target: resolvedTarget(path) });
  }
  return entries;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function resolvedTarget(path: string): string | null {
  try {
    const real = realpathSync(path);
    return real === path ? null : real;
  } catch {
    return null;
  }
}
