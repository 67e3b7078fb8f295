/** Small formatters for a person reading a terminal. */

/** 93_000 -> "1m33s"; coarse on purpose: a status screen is read at a glance. */
export function age(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${seconds % 60 === 0 ? "" : `${seconds % 60}s`}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${minutes % 60 === 0 ? "" : `${minutes % 60}m`}`;
  return `${Math.floor(hours / 24)}d${hours % 24 === 0 ? "" : `${hours % 24}h`}`;
}

/** 1_572_864 -> "1.5 MiB". */
export function bytes(count: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** "since 10:42:01Z (3m ago)" style: an ISO time and how long ago it was. */
export function when(iso: string | null, nowMs: number): string {
  if (iso === null) return "never";
  return `${age(nowMs - Date.parse(iso))} ago`;
}
