import type {
  AlertDraft,
  EvaluatedReading,
  ThresholdEngine,
} from "../../daemon/thresholds/engine.js";
import type { ThresholdRule } from "../../schemas/config-types.js";

/** A rule with the defaults a config file would fill in; override what the test is about. */
export function rule(fields: Partial<ThresholdRule> & Pick<ThresholdRule, "gas" | "value">) {
  const full: ThresholdRule = {
    op: ">=",
    unit: null,
    clear: null,
    forMs: 0,
    severity: "warning",
    sensor: null,
    ...fields,
  };
  return full;
}

/** A live (unflagged) reading; override what the test is about. */
export function reading(
  fields: Partial<EvaluatedReading> & Pick<EvaluatedReading, "gas" | "value" | "tsMs">,
): EvaluatedReading {
  return { sensor: "gas0", unit: "ppm", flags: 0, ...fields };
}

/** The fields of an event a sequence test cares about, as one comparable tuple. */
export type Brief = [
  kind: AlertDraft["kind"],
  rule: string,
  value: number,
  threshold: number,
  tsMs: number,
];

export function brief(drafts: readonly AlertDraft[]): Brief[] {
  return drafts.map((d) => [d.kind, d.rule, d.value, d.threshold, d.tsMs]);
}

/**
 * Feeds `values` as readings one second apart (ts 1000, 2000, ...) and returns
 * every event produced, in order.
 */
export function feed(
  engine: ThresholdEngine,
  values: readonly number[],
  base: Omit<EvaluatedReading, "value" | "tsMs" | "flags"> & { flags?: number },
  startMs = 1000,
  stepMs = 1000,
): Brief[] {
  const out: Brief[] = [];
  values.forEach((value, index) => {
    const tsMs = startMs + index * stepMs;
    out.push(...brief(engine.evaluate({ flags: 0, ...base, value, tsMs })));
  });
  return out;
}
