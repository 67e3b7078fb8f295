import type { RetentionOutcome } from "../types.js";
import type { SignedHttp } from "./http.js";
import { type IndexNames, monthName, monthOfIndex } from "./indices.js";

/** `_cat/indices?format=json` rows (docs.opensearch.org/latest/api-reference/cat/cat-indices/). */
type CatIndices = Array<{ index: string }>;

/** `_count` (docs.opensearch.org/latest/api-reference/count/). */
interface CountAnswer {
  count: number;
}

/** `_delete_by_query` (docs.opensearch.org/latest/api-reference/document-apis/delete-by-query/). */
interface DeleteByQueryAnswer {
  deleted: number;
}

/**
 * Readings before the cutoff's month go with their whole monthly index
 * (counted first, then deleted: no document-by-document work); the rest
 * of the cutoff's month, old alerts and old idempotency records are
 * deleted by query.
 */
export async function prune(
  http: SignedHttp,
  names: IndexNames,
  cutoffMs: number,
  log: (message: string) => void,
): Promise<RetentionOutcome> {
  const cutoffMonth = monthName(cutoffMs);
  const listed = await http.call<CatIndices>(
    {
      method: "GET",
      path: `/_cat/indices/${names.readingsPattern}`,
      query: { format: "json", h: "index" },
    },
    "listing readings indices",
  );
  const old = listed.body
    .map((row) => row.index)
    .filter((index) => {
      const month = monthOfIndex(names, index);
      return month !== null && month < cutoffMonth;
    })
    .sort();
  let readings = 0;
  if (old.length > 0) {
    const counted = await http.call<CountAnswer>(
      { method: "GET", path: `/${old.join(",")}/_count` },
      "counting readings to drop",
    );
    readings += counted.body.count;
    await http.call(
      { method: "DELETE", path: `/${old.join(",")}` },
      "dropping old readings indices",
    );
    log(`dropped ${old.join(", ")} (${counted.body.count} readings)`);
  }
  const deleteBefore = async (index: string, field: string, what: string): Promise<number> => {
    const answer = await http.call<DeleteByQueryAnswer>(
      {
        method: "POST",
        path: `/${index}/_delete_by_query`,
        query: { refresh: "true", conflicts: "proceed" },
        body: { query: { range: { [field]: { lt: cutoffMs } } } },
      },
      `deleting old ${what}`,
    );
    return answer.body.deleted;
  };
  readings += await deleteBefore(names.readingsPattern, "ts", "readings");
  const alerts = await deleteBefore(names.alerts, "ts", "alerts");
  const batches = await deleteBefore(names.requests, "receivedAt", "idempotency records");
  return { readings, alerts, batches };
}
