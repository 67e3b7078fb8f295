import { VERSION } from "../../core/version.js";
import { THRESHOLD_REPORT_HEADER } from "../../schemas/fleet-report.js";
import { type EncodedBody, encodeBody } from "../batch.js";
import { createUploadAgent, postBody } from "../http.js";
import { classifyFailure, classifyResponse } from "../policy.js";
import type { Output, Parcel, WriteResult } from "./contract.js";

/** Response bodies are kept to this size: enough for an error reason, never a memory problem. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface HttpOutputOptions {
  name: string;
  url: string;
  /** The original system's `index` header, sent with every request. */
  index: string;
  compress: boolean;
  /** Connect, headers and body timeouts each. */
  timeoutMs: number;
  /** Reads the API key, once per cycle; null: none. */
  apiKey: () => string | null;
  /** Headers this output adds to every request (after the upload headers). */
  headers?: Record<string, string>;
  /** The `x-sensord-thresholds` value for each request (sync/fleet.ts); null: none yet. */
  report?: () => string | null;
}

/** POSTs each parcel to one URL with the upload headers; the answer classified per sync/policy.ts. */
export class HttpOutput implements Output {
  readonly name: string;
  private apiKey: string | null = null;
  /** Ends an in-flight request at shutdown instead of waiting out its timeout. */
  private readonly abort = new AbortController();
  private readonly agent;

  constructor(private readonly options: HttpOutputOptions) {
    this.name = options.name;
    this.agent = createUploadAgent({
      connectTimeoutMs: options.timeoutMs,
      headersTimeoutMs: options.timeoutMs,
      bodyTimeoutMs: options.timeoutMs,
    });
  }

  get url(): string {
    return this.options.url;
  }

  startCycle(): void {
    // Read once per cycle: a key file fixed after an auth failure is picked up by the next retry.
    this.apiKey = this.options.apiKey();
  }

  async write(parcel: Parcel): Promise<WriteResult> {
    const { options } = this;
    const { body, headers }: EncodedBody =
      typeof parcel.body === "string"
        ? await encodeBody(parcel.body, options.compress)
        : parcel.body;
    const apiKey = this.apiKey;
    const report = options.report?.() ?? null;
    try {
      const response = await postBody(
        options.url,
        body,
        {
          ...headers,
          "idempotency-key": parcel.id,
          index: options.index,
          "user-agent": `sensord/${VERSION}`,
          ...(apiKey === null ? {} : { "x-api-key": apiKey }),
          ...options.headers,
          ...(report === null ? {} : { [THRESHOLD_REPORT_HEADER]: report }),
        },
        {
          connectTimeoutMs: options.timeoutMs,
          headersTimeoutMs: options.timeoutMs,
          bodyTimeoutMs: options.timeoutMs,
          maxResponseBytes: MAX_RESPONSE_BYTES,
          signal: this.abort.signal,
          dispatcher: this.agent,
        },
      );
      return {
        outcome: classifyResponse(response.status, response.headers, response.body),
        status: response.status,
        bytesSent: body.length,
      };
    } catch (error) {
      return { outcome: classifyFailure(error), status: 0, bytesSent: body.length };
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.agent.destroy();
  }
}
