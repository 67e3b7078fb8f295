import type { ThresholdRule } from "../../schemas/config-types.js";
import { FLAG_BITS, type NewAlert, type NewReading } from "../../schemas/records.js";
import type { Gas, Severity, Unit } from "../../schemas/vocabulary.js";
import { convert } from "../units/convert.js";
import { clearHolds, effectiveClearLevel, raiseHolds } from "./condition.js";
import { parseRuleKey, type RuleKeyParts, ruleKey } from "./rule-key.js";

/** What the engine needs of a reading; `for` hold times are measured on its tsMs, not on the wall clock. */
export type EvaluatedReading = Pick<
  NewReading,
  "sensor" | "gas" | "value" | "unit" | "tsMs" | "flags"
>;

/**
 * A raise or clear: a NewAlert before the store gives it `seq` and
 * `readingSeq`. `value` and `unit` are the reading's; `threshold` is the
 * rule's raise level converted to `unit` (for clear events too).
 */
export type AlertDraft = Omit<NewAlert, "seq" | "readingSeq">;

/** An alarm active when the daemon last stopped (ReadingStore.activeAlarms()). */
export interface ActiveAlarm {
  rule: string;
  sensor: string;
  /** When it was raised (the raise event's tsMs), if known. */
  sinceMs?: number | null;
}

export interface ActiveAlarmInfo {
  rule: string;
  sensor: string;
  gas: Gas;
  severity: Severity;
  /** Raise time; null for an alarm restored without one. */
  sinceMs: number | null;
}

/**
 * Readings with any of these flags are not live measurements and are ignored.
 * Not `clock_unsynced`: the value is real and the gas is there now; only its
 * time is in doubt, and an alarm must never wait for NTP.
 */
const IGNORED_FLAGS = FLAG_BITS.warmup | FLAG_BITS.out_of_range;

/**
 * Shared result for "nothing happened", so the hot path allocates nothing.
 * Frozen (and typed readonly) because every caller receives the same array.
 */
const NO_ALERTS: readonly AlertDraft[] = Object.freeze([]);

/** Alarm state of one (sensor, rule); survives reloads that keep the rule's key. */
interface AlarmState {
  active: boolean;
  sinceMs: number | null;
  /** Timestamp of the first reading of the current unbroken run meeting the condition; null: none. */
  pendingSinceMs: number | null;
}

/** One rule as applied to one (sensor, gas) whose readings come in `Slot.unit`. */
interface Entry {
  key: string;
  rule: ThresholdRule;
  threshold: number;
  clearLevel: number;
  state: AlarmState;
}

/** Precomputed per (sensor, gas): the applicable rules with thresholds in the readings' unit. */
interface Slot {
  unit: Unit;
  entries: Entry[];
  /** Alarms of rules no longer configured that wait for this (sensor, gas)'s next reading to clear. */
  hasRetired: boolean;
}

/** An active alarm whose rule went away: cleared (with an event) on the next reading. */
interface RetiredAlarm {
  key: string;
  sensor: string;
  parts: RuleKeyParts;
  sinceMs: number | null;
}

/**
 * Threshold state machine: one state per (sensor, rule), fed every reading.
 *
 * Pure: no clock, no I/O; time is the readings' `tsMs`. Not thread-safe and
 * not re-entrant (one sampler loop calls it).
 *
 * Semantics:
 * - raise when `value <op> threshold` has held on every evaluated reading for
 *   `forMs`, measured from the first reading that met it (forMs 0: on that
 *   reading); a reading that does not meet it restarts the timer. Because the
 *   hold time is measured on reading timestamps, a forward clock step (NTP on
 *   a Pi without RTC) can complete it early;
 * - `forMs` delays raising only: a clear takes effect on the first reading past
 *   the clear level;
 * - clear when the value is back past the clear level (condition.ts);
 * - readings flagged warmup/out_of_range or with a non-finite value are
 *   ignored entirely: no raise, no clear, no timer reset;
 * - a rule whose unit cannot be converted to the reading's never matches;
 * - an alarm whose rule is removed (setRules) or that was restored for a rule
 *   no longer configured is cleared, with a clear event, on the next evaluated
 *   reading of its sensor and gas, so subscribers are never left with an alarm
 *   nobody will ever clear.
 */
export class ThresholdEngine {
  private rules = new Map<string, ThresholdRule>();
  /** sensor -> rule key -> state. */
  private readonly states = new Map<string, Map<string, AlarmState>>();
  /** sensor -> gas -> slot; rebuilt lazily after setRules or a unit change. */
  private readonly slots = new Map<string, Map<Gas, Slot>>();
  /** sensor -> alarms to clear on that sensor's next reading of their gas. */
  private readonly retired = new Map<string, RetiredAlarm[]>();

  constructor(rules: readonly ThresholdRule[], restored: readonly ActiveAlarm[] = []) {
    this.rules = indexRules(rules);
    for (const alarm of restored) this.restore(alarm);
  }

  /**
   * The events `reading` causes, in rule order (retired alarms' clears first).
   * Hot path: the applicable rules and converted thresholds per (sensor, gas)
   * are cached, and "nothing happened" returns one shared frozen empty array,
   * hence `readonly`: iterate or copy it, never push into it.
   */
  evaluate(reading: EvaluatedReading): readonly AlertDraft[] {
    const { value, tsMs } = reading;
    if ((reading.flags & IGNORED_FLAGS) !== 0 || !Number.isFinite(value)) return NO_ALERTS;
    let slot = this.slots.get(reading.sensor)?.get(reading.gas);
    if (slot === undefined || slot.unit !== reading.unit) slot = this.buildSlot(reading);

    let out: AlertDraft[] | null = slot.hasRetired ? this.clearRetired(slot, reading) : null;
    for (const entry of slot.entries) {
      const { rule, state } = entry;
      if (state.active) {
        if (clearHolds(rule.op, value, entry.clearLevel)) {
          state.active = false;
          state.sinceMs = null;
          out ??= [];
          out.push(draft(entry.key, rule, reading, entry.threshold, "clear"));
        }
        continue;
      }
      if (!raiseHolds(rule.op, value, entry.threshold)) {
        state.pendingSinceMs = null;
        continue;
      }
      // A timestamp before the run's start means the clock was stepped back
      // (a Pi without RTC correcting its boot time): restart the run here rather
      // than wait for the clock to catch up with the old start.
      if (state.pendingSinceMs === null || tsMs < state.pendingSinceMs) state.pendingSinceMs = tsMs;
      if (tsMs - state.pendingSinceMs >= rule.forMs) {
        state.active = true;
        state.sinceMs = tsMs;
        state.pendingSinceMs = null;
        out ??= [];
        out.push(draft(entry.key, rule, reading, entry.threshold, "raise"));
      }
    }
    return out ?? NO_ALERTS;
  }

  /**
   * Replace the rules (SIGHUP / CLI reload). A rule whose key is unchanged
   * keeps its state per sensor: an active alarm stays active without a new
   * raise, a pending `for` keeps its start; its new `clear` and `forMs` apply
   * from the next reading (they are not part of the key). An active alarm of a
   * removed rule is cleared with an event on the next evaluated reading of its
   * sensor and gas; pending `for` timers of removed rules are dropped.
   */
  setRules(rules: readonly ThresholdRule[]): void {
    const next = indexRules(rules);
    for (const [sensor, bySensor] of this.states) {
      for (const [key, state] of bySensor) {
        if (next.has(key)) continue;
        const old = this.rules.get(key);
        if (state.active && old !== undefined)
          this.retire({ key, sensor, parts: old, sinceMs: state.sinceMs });
        bySensor.delete(key);
      }
    }
    this.rules = next;
    // A removed-then-restored rule gets its alarm back instead of a clear and a new raise.
    for (const [sensor, alarms] of this.retired) {
      const keep = alarms.filter((alarm) => !this.revive(alarm.key, sensor, alarm.sinceMs));
      if (keep.length === 0) this.retired.delete(sensor);
      else this.retired.set(sensor, keep);
    }
    this.slots.clear();
  }

  /** Alarms currently raised (including ones waiting to be cleared after their rule was removed). */
  active(): ActiveAlarmInfo[] {
    const result: ActiveAlarmInfo[] = [];
    for (const [sensor, bySensor] of this.states) {
      for (const [key, state] of bySensor) {
        const rule = this.rules.get(key);
        if (!state.active || rule === undefined) continue;
        result.push({
          rule: key,
          sensor,
          gas: rule.gas,
          severity: rule.severity,
          sinceMs: state.sinceMs,
        });
      }
    }
    for (const alarms of this.retired.values()) {
      for (const { key, sensor, parts, sinceMs } of alarms) {
        result.push({ rule: key, sensor, gas: parts.gas, severity: parts.severity, sinceMs });
      }
    }
    return result.sort((a, b) => compareText(a.sensor, b.sensor) || compareText(a.rule, b.rule));
  }

  private restore(alarm: ActiveAlarm): void {
    const sinceMs = alarm.sinceMs ?? null;
    if (this.revive(alarm.rule, alarm.sensor, sinceMs)) return;
    const parts = parseRuleKey(alarm.rule);
    // A key that is not ours cannot name its gas, so no reading could ever clear it: forget it.
    if (parts === null || !appliesTo(parts, alarm.sensor)) return;
    const waiting = this.retired.get(alarm.sensor) ?? [];
    if (waiting.some((other) => other.key === alarm.rule)) return;
    this.retire({ key: alarm.rule, sensor: alarm.sensor, parts, sinceMs });
  }

  /** Make (sensor, key) an active alarm if `key` is a configured rule for `sensor`; false if not. */
  private revive(key: string, sensor: string, sinceMs: number | null): boolean {
    const rule = this.rules.get(key);
    if (rule === undefined || !appliesTo(rule, sensor)) return false;
    const state = this.stateOf(sensor, key);
    if (!state.active) {
      state.active = true;
      state.sinceMs = sinceMs;
      state.pendingSinceMs = null;
    }
    return true;
  }

  private retire(alarm: RetiredAlarm): void {
    const list = this.retired.get(alarm.sensor);
    if (list === undefined) this.retired.set(alarm.sensor, [alarm]);
    else list.push(alarm);
  }

  private stateOf(sensor: string, key: string): AlarmState {
    let bySensor = this.states.get(sensor);
    if (bySensor === undefined) {
      bySensor = new Map();
      this.states.set(sensor, bySensor);
    }
    let state = bySensor.get(key);
    if (state === undefined) {
      state = { active: false, sinceMs: null, pendingSinceMs: null };
      bySensor.set(key, state);
    }
    return state;
  }

  /** Slow path, once per (sensor, gas, unit) and after each setRules. */
  private buildSlot(reading: EvaluatedReading): Slot {
    const { sensor, gas, unit } = reading;
    const entries: Entry[] = [];
    for (const [key, rule] of this.rules) {
      if (rule.gas !== gas || !appliesTo(rule, sensor)) continue;
      const state = this.stateOf(sensor, key);
      const ruleUnit = rule.unit ?? unit;
      const threshold = convert(rule.value, ruleUnit, unit);
      if (threshold === null) {
        // Never matches (config validation rejects this: ruleUnitProblem). An
        // alarm restored for it could then never clear, so clear it now.
        if (state.active) this.retire({ key, sensor, parts: rule, sinceMs: state.sinceMs });
        state.active = false;
        state.sinceMs = null;
        state.pendingSinceMs = null;
        continue;
      }
      const clear = rule.clear === null ? null : convert(rule.clear, ruleUnit, unit);
      entries.push({
        key,
        rule,
        threshold,
        clearLevel: effectiveClearLevel(rule.op, threshold, clear),
        state,
      });
    }
    const hasRetired = this.retired.get(sensor)?.some((alarm) => alarm.parts.gas === gas) ?? false;
    const slot: Slot = { unit, entries, hasRetired };
    let bySensor = this.slots.get(sensor);
    if (bySensor === undefined) {
      bySensor = new Map();
      this.slots.set(sensor, bySensor);
    }
    bySensor.set(gas, slot);
    return slot;
  }

  /** Clear events for the retired alarms of this reading's sensor and gas (rare path). */
  private clearRetired(slot: Slot, reading: EvaluatedReading): AlertDraft[] {
    slot.hasRetired = false;
    const out: AlertDraft[] = [];
    const alarms = this.retired.get(reading.sensor) ?? [];
    const keep: RetiredAlarm[] = [];
    for (const alarm of alarms) {
      if (alarm.parts.gas !== reading.gas) {
        keep.push(alarm);
        continue;
      }
      // Threshold in the reading's unit when convertible; otherwise (only
      // possible for a rule that never matched) the rule's own number, so the
      // event still carries a value rather than NaN.
      const { parts } = alarm;
      const threshold =
        convert(parts.value, parts.unit ?? reading.unit, reading.unit) ?? parts.value;
      out.push(draft(alarm.key, parts, reading, threshold, "clear"));
    }
    if (keep.length === 0) this.retired.delete(reading.sensor);
    else this.retired.set(reading.sensor, keep);
    return out;
  }
}

/** Rules by key; with duplicate keys the last rule wins (config validation reports duplicates). */
function indexRules(rules: readonly ThresholdRule[]): Map<string, ThresholdRule> {
  const byKey = new Map<string, ThresholdRule>();
  for (const rule of rules) byKey.set(ruleKey(rule), rule);
  return byKey;
}

function appliesTo(rule: { sensor: string | null }, sensor: string): boolean {
  return rule.sensor === null || rule.sensor === sensor;
}

function draft(
  key: string,
  rule: RuleKeyParts,
  reading: EvaluatedReading,
  threshold: number,
  kind: AlertDraft["kind"],
): AlertDraft {
  return {
    rule: key,
    sensor: reading.sensor,
    gas: reading.gas,
    kind,
    value: reading.value,
    unit: reading.unit,
    threshold,
    op: rule.op,
    severity: rule.severity,
    tsMs: reading.tsMs,
  };
}

function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
