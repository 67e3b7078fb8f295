import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { Client } from "@opensearch-project/opensearch";
import { AwsSigv4Signer } from "@opensearch-project/opensearch/aws-v3";
import { ERROR_CODES } from "../../../core/errors.js";
import { OpenSearchStoreError, requestError, statusOf } from "./errors.js";

/** Well under the Lambda's timeout (itself under API Gateway's 29 s). */
const REQUEST_TIMEOUT_MS = 10_000;

export interface SignedClientOptions {
  /** `https://HOST[:PORT]` (or `http://` for local use). */
  node: string;
  region: string;
  /** Static keys (tests, a deployer's smoke check); else the AWS SDK's default chain. */
  credentials?: AwsCredentialIdentity;
}

export interface Answer<T> {
  status: number;
  body: T;
}

export interface Call {
  method: "GET" | "PUT" | "POST" | "DELETE" | "HEAD";
  path: string;
  body?: unknown;
  /** NDJSON lines (`_bulk`). */
  lines?: unknown[];
  query?: Record<string, string>;
  /** Statuses answered as values instead of thrown (e.g. 404 of a missing document). */
  expect?: number[];
}

/**
 * Every request to the domain, signed with SigV4 (service `es`) and
 * without the client's own retries: the store decides what a retry is
 * (only throttled bulk items, within a time budget). Failures become
 * OpenSearchStoreError or StoreBusyError naming what to change.
 */
export class SignedHttp {
  private readonly client: Client;

  constructor(
    options: SignedClientOptions,
    readonly endpoint: string,
  ) {
    const staticKeys = options.credentials;
    // The default chain is built once: it caches what it found (a role's keys) and refreshes them itself.
    const chain = staticKeys === undefined ? defaultProvider() : null;
    this.client = new Client({
      ...AwsSigv4Signer({
        region: options.region,
        service: "es",
        getCredentials: () =>
          chain === null ? Promise.resolve(staticKeys as AwsCredentialIdentity) : chain(),
      }),
      node: options.node,
      maxRetries: 0,
      requestTimeout: REQUEST_TIMEOUT_MS,
    });
  }

  async call<T>(call: Call, action: string): Promise<Answer<T>> {
    try {
      const response = await this.client.transport.request(
        {
          method: call.method,
          path: call.path,
          ...(call.body === undefined ? {} : { body: call.body as Record<string, unknown> }),
          ...(call.lines === undefined
            ? {}
            : { bulkBody: call.lines as Record<string, unknown>[] }),
          ...(call.query === undefined ? {} : { querystring: call.query }),
        },
        { ignore: call.expect ?? [] },
      );
      return { status: response.statusCode ?? 0, body: response.body as T };
    } catch (error) {
      const status = statusOf(error);
      if (status !== null && call.expect?.includes(status)) {
        return { status, body: (error as { meta: { body: T } }).meta.body };
      }
      throw requestError(error, this.endpoint, action);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** `https://HOST[:PORT]` checked; the URL as the client wants it. */
export function parseEndpoint(node: string): string {
  let url: URL;
  try {
    url = new URL(node);
  } catch {
    throw new OpenSearchStoreError(
      ERROR_CODES.opensearch.url,
      node,
      "not a URL: give https://HOST[:PORT]",
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new OpenSearchStoreError(
      ERROR_CODES.opensearch.url,
      node,
      "the endpoint must be https:// (http:// for local use)",
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new OpenSearchStoreError(
      ERROR_CODES.opensearch.url,
      `${url.protocol}//${url.host}`,
      "credentials in the URL are refused: requests are signed with AWS credentials (a role, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
    );
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "") {
    throw new OpenSearchStoreError(
      ERROR_CODES.opensearch.url,
      node,
      "give the domain's endpoint only (no path or query)",
    );
  }
  return `${url.protocol}//${url.host}`;
}
