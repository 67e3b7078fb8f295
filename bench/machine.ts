import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/**
 * The machine a section ran on and how busy others kept it meanwhile: on a
 * shared 2-core VM a figure means little without the second.
 */

const CLOCK_TICKS_PER_SECOND = 100;

export function describeMachine(): { cores: number; cpuModel: string; node: string } {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1];
  return {
    cores: availableParallelism(),
    // "Intel(R) Xeon(R)": the marks say nothing, and the stamp puts the model in parentheses.
    cpuModel: model?.replace(/\((R|TM)\)/gi, "").trim() ?? "unknown CPU",
    node: process.version,
  };
}

/** Busy CPU seconds of the whole machine (not idle, iowait or steal), from /proc/stat. */
function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1, 8)
    .map(Number);
  return (user + nice + system + irq + softirq) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds of this process and of every child it has reaped: the bench's
 * own daemons, drains and servers, once stopped. A process that detaches
 * itself (PostgreSQL's postmaster under pg_ctl) is not reaped here and counts
 * as another's.
 */
function ownTreeSeconds(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  // After the command name: utime is field 14, stime 15, cutime 16, cstime 17.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** Starts counting; the returned function says how long it ran and what others used meanwhile. */
export function startLoadMeter(): () => { seconds: number; othersCpuSeconds: number } {
  const started = performance.now();
  const busy = machineBusySeconds();
  const own = ownTreeSeconds();
  return () => ({
    seconds: (performance.now() - started) / 1000,
    othersCpuSeconds: machineBusySeconds() - busy - (ownTreeSeconds() - own),
  });
}
