/**
 * How often to send WATCHDOG=1, from the variables systemd sets when the unit
 * has WatchdogSec= (sd_watchdog_enabled(3)): half of WATCHDOG_USEC, as the man
 * page recommends, or null when there is no watchdog for this process
 * (unset, zero, malformed, or WATCHDOG_PID naming another process).
 */
export function watchdogPeriodMs(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC ?? "");
  if (!Number.isSafeInteger(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== "" && Number(env.WATCHDOG_PID) !== pid)
    return null;
  return Math.max(1, Math.floor(usec / 2000));
}
