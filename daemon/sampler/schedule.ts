/**
 * Tick k is due at `startMs + k * intervalMs` on the monotonic clock, so the
 * schedule never drifts however long each read takes. When a read ends after
 * the next tick was due, the missed ticks are skipped (and counted) instead of
 * stacked up: sampling resumes at the next slot still in the future.
 */
export function nextTick(
  startMs: number,
  intervalMs: number,
  lastTick: number,
  nowMs: number,
): { tick: number; dueMs: number; skipped: number } {
  const following = lastTick + 1;
  const due = startMs + following * intervalMs;
  if (nowMs <= due) return { tick: following, dueMs: due, skipped: 0 };
  const tick = Math.floor((nowMs - startMs) / intervalMs) + 1;
  return { tick, dueMs: startMs + tick * intervalMs, skipped: tick - following };
}
