import type { Logger } from "../../core/logger.js";
import type { SensorConfig } from "../../schemas/config-types.js";
import { formatThresholdReport } from "../../schemas/fleet-report.js";
import type { FleetThresholdsTarget } from "../../sync/fleet.js";
import type { FleetLayer } from "../control/rules.js";
import type {
  AppliedFleetSet,
  FleetThresholdTable,
  RefusedFleetSet,
  StoredFleetState,
} from "../store/fleet-thresholds.js";
import { checkDesired, type DesiredCheck } from "./desired.js";

/** The fleet part of `sensorctl status --json`. Times are ISO 8601 UTC. */
export interface FleetReport {
  /** Where the desired set is fetched; null: not fetched (sensorctl with sensord down). */
  endpoint: string | null;
  applied: {
    etag: string;
    source: AppliedFleetSet["source"];
    version: number;
    rules: number;
    appliedAt: string;
  } | null;
  /** The last set refused, while no newer one was applied. */
  refused: { etag: string; reason: string; refusedAt: string } | null;
  /** The last answer (200 or 304); null: none since start. */
  lastFetchAt: string | null;
  /** Why the last fetch that failed failed; null: none failed since start. */
  lastError: string | null;
  lastErrorAt: string | null;
  /** Desired sets refused since start. */
  refusedTotal: number;
}

/** A stored applied set checked again against this config's sensors, as a fresh answer would be. */
export function checkStored(
  applied: AppliedFleetSet,
  sensors: readonly SensorConfig[],
): DesiredCheck {
  const { etag, source, version, rules } = applied;
  return checkDesired({ etag, source, version, thresholds: rules }, null, sensors);
}

/** The fleet layer of a stored state, or null when there is none or it no longer fits the sensors. */
export function storedLayer(
  state: StoredFleetState,
  sensors: readonly SensorConfig[],
): FleetLayer | null {
  if (state.applied === null) return null;
  const check = checkStored(state.applied, sensors);
  return check.ok ? { etag: check.set.etag, rules: check.set.rules } : null;
}

export interface FleetThresholdsDeps {
  table: FleetThresholdTable;
  sensors: () => readonly SensorConfig[];
  endpoint: string;
  log: Logger;
  now?: () => number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The report of a stored state: what `sensorctl status` shows with sensord down, and the base of the live one. */
export function fleetReport(state: StoredFleetState, endpoint: string | null): FleetReport {
  const { applied, refused } = state;
  return {
    endpoint,
    applied:
      applied === null
        ? null
        : {
            etag: applied.etag,
            source: applied.source,
            version: applied.version,
            rules: applied.rules.length,
            appliedAt: new Date(applied.appliedAtMs).toISOString(),
          },
    refused:
      refused === null
        ? null
        : {
            etag: refused.etag,
            reason: refused.reason,
            refusedAt: new Date(refused.refusedAtMs).toISOString(),
          },
    lastFetchAt: null,
    lastError: null,
    lastErrorAt: null,
    refusedTotal: 0,
  };
}

/**
 * The fleet's desired thresholds on this Pi: the set applied last (loaded
 * from the database at start, so a restart without network runs it), the
 * last refusal, and what the uploads report. Answers come from the sync
 * cycle's fetch (sync/fleet.ts); a set is checked whole and then applied or
 * refused whole. Failures to fetch change nothing and are logged once per
 * streak.
 */
export class FleetThresholds implements FleetThresholdsTarget {
  private applied: { stored: AppliedFleetSet; layer: FleetLayer } | null = null;
  private refused: RefusedFleetSet | null;
  private lastFetchAtMs: number | null = null;
  private lastError: string | null = null;
  private lastErrorAtMs: number | null = null;
  private failing = false;
  private refusedTotal = 0;
  private onApply: () => void = () => undefined;
  private readonly now: () => number;

  constructor(private readonly deps: FleetThresholdsDeps) {
    this.now = deps.now ?? Date.now;
    const stored = deps.table.read();
    this.refused = stored.refused;
    if (stored.applied !== null) {
      const check = checkStored(stored.applied, deps.sensors());
      if (check.ok) {
        this.applied = {
          stored: stored.applied,
          layer: { etag: check.set.etag, rules: check.set.rules },
        };
        deps.log.info(
          `fleet thresholds ${stored.applied.etag} (${stored.applied.source} set) in force from the database`,
        );
      } else {
        deps.log.warn(
          `the stored fleet thresholds ${stored.applied.etag} no longer fit this config (${check.reason}); ` +
            "running without them until the fleet sends a set that does",
        );
      }
    }
  }

  /** Called after each set applied, to hand the new rules to the engine. */
  whenApplied(listener: () => void): void {
    this.onApply = listener;
  }

  layer(): FleetLayer | null {
    return this.applied?.layer ?? null;
  }

  lastEtag(): string | null {
    return this.refused?.etag ?? this.applied?.stored.etag ?? null;
  }

  received(body: unknown, etag: string | null): void {
    this.answered();
    const check = checkDesired(body, etag, this.deps.sensors());
    if (!check.ok) {
      this.refuse(check.etag, check.reason);
      return;
    }
    const { set } = check;
    if (this.applied?.stored.etag === set.etag && this.refused === null) return;
    const stored: AppliedFleetSet = {
      etag: set.etag,
      source: set.source,
      version: set.version,
      rules: set.received,
      appliedAtMs: this.now(),
    };
    this.deps.table.applied(stored);
    this.applied = { stored, layer: { etag: set.etag, rules: set.rules } };
    this.refused = null;
    this.deps.log.info(
      set.source === "none"
        ? `fleet thresholds ${set.etag}: the fleet sets no rules for this device`
        : `fleet thresholds ${set.etag} applied: the ${set.source} set v${set.version}, ${set.rules.length} rule(s)`,
    );
    this.onApply();
  }

  unchanged(): void {
    this.answered();
  }

  failed(error: string): void {
    this.lastError = error;
    this.lastErrorAtMs = this.now();
    if (this.failing) return;
    this.failing = true;
    this.deps.log.warn(
      `cannot fetch fleet thresholds from ${this.deps.endpoint}: ${error}; the rules in force stay ` +
        "(said once until a fetch works again)",
    );
  }

  report(): string | null {
    if (this.refused !== null) {
      const { etag, reason } = this.refused;
      return formatThresholdReport({ state: "refused", etag, reason });
    }
    const applied = this.applied?.stored;
    return applied === undefined
      ? null
      : formatThresholdReport({ state: "applied", etag: applied.etag, reason: null });
  }

  status(): FleetReport {
    return {
      ...fleetReport(
        { applied: this.applied?.stored ?? null, refused: this.refused },
        this.deps.endpoint,
      ),
      lastFetchAt: iso(this.lastFetchAtMs),
      lastError: this.lastError,
      lastErrorAt: iso(this.lastErrorAtMs),
      refusedTotal: this.refusedTotal,
    };
  }

  /**
   * After a reload: a set that no longer fits the sensors stops applying.
   * Its etag is forgotten too, so the next fetch gets the set again and
   * refuses (and reports) it with the reason.
   */
  recheck(sensors: readonly SensorConfig[]): void {
    const applied = this.applied?.stored;
    if (applied === undefined) return;
    const check = checkStored(applied, sensors);
    if (check.ok) return;
    this.applied = null;
    this.deps.log.warn(
      `fleet thresholds ${applied.etag} no longer fit this config (${check.reason}); the config's rules apply`,
    );
  }

  private answered(): void {
    this.lastFetchAtMs = this.now();
    if (!this.failing) return;
    this.failing = false;
    this.deps.log.info(`fleet thresholds reachable again at ${this.deps.endpoint}`);
  }

  private refuse(etag: string, reason: string): void {
    if (this.refused?.etag === etag && this.refused.reason === reason) return;
    this.refused = { etag, reason, refusedAtMs: this.now() };
    this.deps.table.refused(this.refused);
    this.refusedTotal++;
    this.deps.log.warn(`fleet thresholds ${etag} refused, the rules in force stay: ${reason}`);
  }
}
