import { setTimeout as sleep } from "node:timers/promises";
import { ERROR_CODES } from "../../../core/errors.js";
import { StoreBusyError, StoreRejectedError } from "../types.js";
import { OpenSearchStoreError, RETRY_AFTER_SECONDS } from "./errors.js";
import type { SignedHttp } from "./http.js";

/** How long throttled items are retried before the request answers 503: well under the Lambda's timeout. */
export interface RetryBudget {
  firstDelayMs: number;
  budgetMs: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudget = { firstDelayMs: 100, budgetMs: 3000 };

export interface CreateItem {
  index: string;
  id: string;
  /** What a refusal names (the reading or event id). */
  label: string;
  document: unknown;
}

/** Per item, in order: stored now, or already stored (409). */
export type CreateResult = "created" | "duplicate";

/** One item of a `_bulk` answer (docs.opensearch.org/latest/api-reference/document-apis/bulk/). */
interface BulkItem {
  create?: {
    _index: string;
    _id: string;
    status: number;
    error?: { type?: string; reason?: string };
  };
}

interface BulkAnswer {
  errors: boolean;
  items: BulkItem[];
}

/** Statuses of an item that another attempt may turn into 201: throttled, or a shard busy. */
const RETRYABLE = new Set([429, 503]);

/**
 * `create` every item (one `_bulk` per attempt), so an `_id` stored before
 * answers 409 and is never written twice. Throttled items alone are sent
 * again, with doubling delays, until the budget is spent; then the whole
 * request fails as StoreBusyError (503 + Retry-After): never a partial
 * success reported as success. An item OpenSearch refuses as malformed
 * (400: mapping or parse) fails the request as StoreRejectedError (422).
 * `refresh=wait_for`: the answer comes once the items are searchable, so
 * a client reads what it was told was stored.
 */
export async function bulkCreate(
  http: SignedHttp,
  items: readonly CreateItem[],
  kind: "reading" | "alert",
  budget: RetryBudget,
): Promise<CreateResult[]> {
  const results: Array<CreateResult | undefined> = new Array(items.length);
  let pending = items.map((_, index) => index);
  const started = Date.now();
  let delay = budget.firstDelayMs;
  while (pending.length > 0) {
    const lines: unknown[] = [];
    for (const index of pending) {
      const item = items[index] as CreateItem;
      lines.push({ create: { _index: item.index, _id: item.id } }, item.document);
    }
    const answer = await http.call<BulkAnswer>(
      { method: "POST", path: "/_bulk", lines, query: { refresh: "wait_for" } },
      `storing ${pending.length} ${kind}s`,
    );
    const retry: number[] = [];
    for (const [position, index] of pending.entries()) {
      const outcome = answer.body.items[position]?.create;
      const item = items[index] as CreateItem;
      if (outcome === undefined) {
        throw new OpenSearchStoreError(
          ERROR_CODES.opensearch.request,
          http.endpoint,
          `_bulk answered ${answer.body.items.length} items for ${pending.length} sent`,
        );
      }
      if (outcome.status === 201) results[index] = "created";
      else if (outcome.status === 409) results[index] = "duplicate";
      else if (RETRYABLE.has(outcome.status)) retry.push(index);
      else if (outcome.status === 400) {
        throw new StoreRejectedError(kind, item.label, itemReason(outcome.error));
      } else {
        throw new OpenSearchStoreError(
          ERROR_CODES.opensearch.request,
          http.endpoint,
          `storing ${kind} "${item.label}": OpenSearch answered ${outcome.status} (${itemReason(outcome.error)})`,
        );
      }
    }
    pending = retry;
    if (pending.length === 0) break;
    if (Date.now() - started + delay > budget.budgetMs) {
      throw new StoreBusyError(
        `OpenSearch kept throttling ${pending.length} of ${items.length} ${kind}s for ${Date.now() - started} ms`,
        RETRY_AFTER_SECONDS,
      );
    }
    await sleep(delay);
    delay *= 2;
  }
  return results.map((result) => result ?? "duplicate");
}

function itemReason(error: { type?: string; reason?: string } | undefined): string {
  if (error === undefined) return "no reason given";
  return `${error.type ?? "error"}: ${error.reason ?? ""}`;
}
