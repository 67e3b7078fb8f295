/**
 * Time buckets for a downsampled chart: [fromMs, toMs) cut into at most
 * `width` buckets of a whole number of milliseconds (at least 1), so every
 * reading falls in exactly one bucket: index = floor((ts - fromMs) / bucketMs).
 * Shared by the fleet dashboard (cloud/store) and the device dashboard
 * (daemon/dashboard): one rule for what a bucket holds.
 */
export interface BucketPlan {
  fromMs: number;
  toMs: number;
  bucketMs: number;
  /** Number of buckets; the last one may end past toMs but holds nothing from there. */
  count: number;
}

export const DEFAULT_WIDTH = 1000;
export const MAX_WIDTH = 5000;

export function planBuckets(fromMs: number, toMs: number, width: number): BucketPlan {
  if (!Number.isSafeInteger(fromMs) || !Number.isSafeInteger(toMs) || toMs <= fromMs) {
    throw new RangeError(`bad time range [${fromMs}, ${toMs})`);
  }
  if (!Number.isSafeInteger(width) || width < 1) throw new RangeError(`bad width ${width}`);
  const bucketMs = Math.max(1, Math.ceil((toMs - fromMs) / width));
  return { fromMs, toMs, bucketMs, count: Math.ceil((toMs - fromMs) / bucketMs) };
}

/** Start of bucket `index` (inclusive). */
export function bucketStart(plan: BucketPlan, index: number): number {
  return plan.fromMs + index * plan.bucketMs;
}

/** End of bucket `index` (exclusive), never past the range. */
export function bucketEnd(plan: BucketPlan, index: number): number {
  return Math.min(plan.toMs, plan.fromMs + (index + 1) * plan.bucketMs);
}

/** The bucket a time falls in, or -1 outside [fromMs, toMs). */
export function bucketOf(plan: BucketPlan, ts: number): number {
  if (ts < plan.fromMs || ts >= plan.toMs) return -1;
  return Math.floor((ts - plan.fromMs) / plan.bucketMs);
}
