/**
 * Error bodies as OpenSearch writes them (docs.opensearch.org/latest/api-reference/,
 * "Common REST parameters" / error responses):
 * `{"error": {"root_cause": [cause], "type", "reason", ...}, "status": N}`.
 */
export interface ErrorCause {
  type: string;
  reason: string;
  index?: string;
  index_uuid?: string;
  shard?: string;
  resource?: { type: string; id: string };
}

export class OpenSearchError extends Error {
  constructor(
    readonly status: number,
    readonly cause_: ErrorCause,
  ) {
    super(cause_.reason);
  }

  body(): Record<string, unknown> {
    return { error: { root_cause: [this.cause_], ...this.cause_ }, status: this.status };
  }
}

export function indexNotFound(index: string): OpenSearchError {
  return new OpenSearchError(404, {
    type: "index_not_found_exception",
    reason: `no such index [${index}]`,
    index,
    resource: { type: "index_or_alias", id: index },
    index_uuid: "_na_",
  });
}

export function badRequest(reason: string, type = "illegal_argument_exception"): OpenSearchError {
  return new OpenSearchError(400, { type, reason });
}
