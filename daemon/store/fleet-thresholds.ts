import type Database from "better-sqlite3";

/** The fleet's set this Pi applied last, as GET /fleet/desired sent it. */
export interface AppliedFleetSet {
  etag: string;
  source: "device" | "group" | "none";
  version: number;
  /** The `thresholds` array as received: resolved against the config at each start. */
  rules: unknown[];
  appliedAtMs: number;
}

/** The last set this Pi refused; cleared when a set is applied. */
export interface RefusedFleetSet {
  etag: string;
  reason: string;
  refusedAtMs: number;
}

export interface StoredFleetState {
  applied: AppliedFleetSet | null;
  refused: RefusedFleetSet | null;
}

interface FleetRow {
  applied_etag: string | null;
  applied_source: string | null;
  applied_version: number | null;
  applied_rules: string | null;
  applied_at: number | null;
  refused_etag: string | null;
  refused_reason: string | null;
  refused_at: number | null;
}

const SOURCES = ["device", "group", "none"] as const;

/** The `fleet_thresholds` row (migration 10) over an open connection. */
export class FleetThresholdTable {
  constructor(private readonly db: Database.Database) {}

  read(): StoredFleetState {
    const row = this.db.prepare<[], FleetRow>("SELECT * FROM fleet_thresholds WHERE id = 1").get();
    if (row === undefined) return { applied: null, refused: null };
    return { applied: appliedOf(row), refused: refusedOf(row) };
  }

  /** A set applied: it replaces the previous one and clears a refusal. */
  applied(set: AppliedFleetSet): void {
    this.db
      .prepare(
        "UPDATE fleet_thresholds SET applied_etag = ?, applied_source = ?, applied_version = ?, " +
          "applied_rules = ?, applied_at = ?, refused_etag = NULL, refused_reason = NULL, refused_at = NULL " +
          "WHERE id = 1",
      )
      .run(set.etag, set.source, set.version, JSON.stringify(set.rules), set.appliedAtMs);
  }

  refused(set: RefusedFleetSet): void {
    this.db
      .prepare(
        "UPDATE fleet_thresholds SET refused_etag = ?, refused_reason = ?, refused_at = ? WHERE id = 1",
      )
      .run(set.etag, set.reason, set.refusedAtMs);
  }
}

function appliedOf(row: FleetRow): AppliedFleetSet | null {
  const source = SOURCES.find((known) => known === row.applied_source);
  if (row.applied_etag === null || source === undefined || row.applied_rules === null) return null;
  const rules: unknown = JSON.parse(row.applied_rules);
  return {
    etag: row.applied_etag,
    source,
    version: row.applied_version ?? 0,
    rules: Array.isArray(rules) ? rules : [],
    appliedAtMs: row.applied_at ?? 0,
  };
}

function refusedOf(row: FleetRow): RefusedFleetSet | null {
  if (row.refused_etag === null) return null;
  return {
    etag: row.refused_etag,
    reason: row.refused_reason ?? "",
    refusedAtMs: row.refused_at ?? 0,
  };
}
