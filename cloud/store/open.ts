import { ERROR_CODES, StoreError } from "../../core/errors.js";
import { openSqliteStore } from "./sqlite/index.js";
import type { CloudStore } from "./types.js";

export interface StoreSpec {
  /**
   * `postgres://USER@HOST:PORT/DB` (or `postgresql://`),
   * `opensearch+https://HOST[:PORT]` (or `opensearch+http://` for local
   * use), else a SQLite file path.
   */
  db: string;
  /** PostgreSQL only; otherwise PGPASSWORD or ~/.pgpass apply. */
  password?: string | null;
  log?: (level: "info" | "warn", message: string) => void;
}

/** The store a `--db` value names: one line per kind of store. */
export async function openStore(spec: StoreSpec): Promise<CloudStore> {
  if (isPostgresUrl(spec.db)) {
    // Loaded only when used: an ingest on SQLite never pays for the PostgreSQL client.
    const { openPostgresStore } = await import("./postgres/index.js");
    return openPostgresStore({ url: spec.db, password: spec.password ?? null, log: spec.log });
  }
  const openSearchNode = openSearchEndpoint(spec.db);
  if (openSearchNode !== null) {
    const { openOpenSearchStore } = await loadOpenSearch(openSearchNode);
    return openOpenSearchStore({
      node: openSearchNode,
      indexPrefix: process.env.OPENSEARCH_INDEX_PREFIX || undefined,
      region: awsRegion(openSearchNode),
      log: spec.log,
    });
  }
  return openSqliteStore(spec.db, spec.log);
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(db);
}

/** `opensearch+https://HOST` -> `https://HOST`; null for any other `--db`. */
export function openSearchEndpoint(db: string): string | null {
  const match = /^opensearch\+(https?:\/\/.*)$/i.exec(db);
  return match?.[1] ?? null;
}

/**
 * The OpenSearch client and the AWS credential chain are dev dependencies
 * (a Pi never installs them): loaded only when used, and when missing the
 * error says what to install.
 */
async function loadOpenSearch(node: string): Promise<typeof import("./opensearch/index.js")> {
  try {
    return await import("./opensearch/index.js");
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new StoreError(
      ERROR_CODES.opensearch.clientMissing,
      node,
      "the OpenSearch store needs its client: npm install @opensearch-project/opensearch @aws-sdk/credential-provider-node",
      { cause: error },
    );
  }
}

/** The domain's region signs every request: AWS_REGION (the Lambda sets it), else AWS_DEFAULT_REGION. */
function awsRegion(node: string): string {
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (region === undefined || region === "") {
    throw new StoreError(
      ERROR_CODES.opensearch.region,
      node,
      "set AWS_REGION to the OpenSearch domain's region (e.g. ap-northeast-2): requests are signed for it",
    );
  }
  return region;
}
