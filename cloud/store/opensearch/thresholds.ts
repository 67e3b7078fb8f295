import type { FleetRule } from "../../../schemas/fleet-thresholds.js";
import {
  type PutThresholdsOutcome,
  StoreBusyError,
  type ThresholdChange,
  type ThresholdReport,
  type ThresholdScope,
  type ThresholdStore,
  type ThresholdTarget,
  type ThresholdVersion,
} from "../types.js";
import type { SignedHttp } from "./http.js";
import type { IndexNames } from "./indices.js";

interface ThresholdDocument {
  scope: ThresholdScope;
  name: string;
  version: number;
  rules: string;
  changedAt: number;
  changedBy?: string;
}

interface ReportDocument {
  device: string;
  group: string;
  state: ThresholdReport["state"];
  etag: string;
  reason?: string;
  reportedAt: number;
}

interface Hits<S> {
  hits: { hits: Array<{ _source: S }> };
}

interface LatestAggregation {
  names: { buckets: Array<{ key: string; latest: Hits<ThresholdDocument> }> };
}

/** Far more than concurrent edits of one group's thresholds by people. */
const PUT_ATTEMPTS = 20;
/** More versions than an audit list needs to show; the history answers the newest this many. */
const MAX_HISTORY = 10_000;

/**
 * The fleet's desired thresholds on OpenSearch. A version is a document
 * with `_id` scope/name/version written with `create`: a 409 means another
 * PUT took that version, and this one tries the next. Writes wait for a refresh, so
 * the search for the latest version sees every earlier PUT; reports are
 * read by id (real-time) and need no refresh, which at one per upload
 * would cost the domain dearly.
 */
export function openSearchThresholds(http: SignedHttp, names: IndexNames): ThresholdStore {
  const documentPath = (api: "_doc" | "_create", target: ThresholdTarget, version: number) =>
    `/${names.fleetThresholds}/${api}/${encodeURIComponent(`${target.scope}/${target.name}/${version}`)}`;

  const latest = async (
    scope: ThresholdScope,
    wanted: readonly string[],
  ): Promise<Map<string, ThresholdVersion>> => {
    const unique = [...new Set(wanted)];
    const found = new Map<string, ThresholdVersion>();
    if (unique.length === 0) return found;
    const answer = await http.call<{ aggregations: LatestAggregation }>(
      {
        method: "POST",
        path: `/${names.fleetThresholds}/_search`,
        body: {
          size: 0,
          query: { bool: { filter: [{ term: { scope } }, { terms: { name: unique } }] } },
          aggs: {
            names: {
              terms: { field: "name", size: unique.length },
              aggs: { latest: { top_hits: { size: 1, sort: [{ version: "desc" }] } } },
            },
          },
        },
      },
      "reading the latest threshold sets",
    );
    for (const bucket of answer.body.aggregations.names.buckets) {
      const source = bucket.latest.hits.hits[0]?._source;
      if (source !== undefined) found.set(bucket.key, toVersion(source));
    }
    return found;
  };

  const exists = async (target: ThresholdTarget, version: number): Promise<boolean> => {
    const answer = await http.call<{ found?: boolean }>(
      { method: "GET", path: documentPath("_doc", target, version), expect: [404] },
      "reading a threshold set",
    );
    return answer.status !== 404 && answer.body.found === true;
  };

  const create = async (
    target: ThresholdTarget,
    change: ThresholdChange,
    version: number,
  ): Promise<boolean> => {
    const document: ThresholdDocument = {
      scope: target.scope,
      name: target.name,
      version,
      rules: JSON.stringify(change.thresholds),
      changedAt: change.changedAt,
      ...(change.changedBy === null ? {} : { changedBy: change.changedBy }),
    };
    const answer = await http.call<unknown>(
      {
        method: "PUT",
        path: documentPath("_create", target, version),
        body: document,
        query: { refresh: "wait_for" },
        expect: [409],
      },
      "storing a threshold set",
    );
    return answer.status !== 409;
  };

  const currentVersion = async (target: ThresholdTarget) =>
    (await latest(target.scope, [target.name])).get(target.name)?.version ?? 0;

  return {
    async putThresholds(target, change, ifVersion): Promise<PutThresholdsOutcome> {
      if (ifVersion !== null) {
        // The set the client edited must exist (0: none, a first set) and nobody may have stored the one after it.
        const edited = ifVersion === 0 || (await exists(target, ifVersion));
        if (edited && (await create(target, change, ifVersion + 1))) {
          return { kind: "stored", version: ifVersion + 1 };
        }
        return { kind: "conflict", current: await currentVersion(target) };
      }
      let version = (await currentVersion(target)) + 1;
      for (let attempt = 1; !(await create(target, change, version)); attempt++) {
        if (attempt >= PUT_ATTEMPTS) {
          throw new StoreBusyError(
            `concurrent PUTs took ${PUT_ATTEMPTS} versions of ${target.scope} "${target.name}" in a row`,
            1,
          );
        }
        version++;
      }
      return { kind: "stored", version };
    },
    latestThresholds: latest,
    async thresholdHistory(target) {
      const answer = await http.call<Hits<ThresholdDocument>>(
        {
          method: "POST",
          path: `/${names.fleetThresholds}/_search`,
          body: {
            size: MAX_HISTORY,
            query: {
              bool: {
                filter: [{ term: { scope: target.scope } }, { term: { name: target.name } }],
              },
            },
            sort: [{ version: "desc" }],
          },
        },
        "reading a threshold history",
      );
      return answer.body.hits.hits.map((hit) => toVersion(hit._source));
    },
    async reportThresholds(report) {
      const document: ReportDocument = {
        device: report.device,
        group: report.group,
        state: report.state,
        etag: report.etag,
        reportedAt: report.reportedAt,
        ...(report.reason === null ? {} : { reason: report.reason }),
      };
      await http.call<unknown>(
        {
          method: "PUT",
          path: `/${names.thresholdReports}/_doc/${encodeURIComponent(report.device)}`,
          body: document,
        },
        "storing a threshold report",
      );
    },
    async thresholdReports(devices) {
      const found = new Map<string, ThresholdReport>();
      const ids = [...new Set(devices)];
      if (ids.length === 0) return found;
      const answer = await http.call<{
        docs: Array<{ found?: boolean; _source?: ReportDocument }>;
      }>(
        { method: "POST", path: `/${names.thresholdReports}/_mget`, body: { ids } },
        "reading threshold reports",
      );
      for (const doc of answer.body.docs) {
        const source = doc._source;
        if (doc.found !== true || source === undefined) continue;
        found.set(source.device, {
          device: source.device,
          group: source.group,
          state: source.state,
          etag: source.etag,
          reason: source.reason ?? null,
          reportedAt: source.reportedAt,
        });
      }
      return found;
    },
  };
}

function toVersion(source: ThresholdDocument): ThresholdVersion {
  return {
    version: source.version,
    // Written by putThresholds from a set the core validated.
    thresholds: JSON.parse(source.rules) as FleetRule[],
    changedAt: source.changedAt,
    changedBy: source.changedBy ?? null,
  };
}
