import { describeError } from "../core/errors.js";
import { VERSION } from "../core/version.js";
import { createUploadAgent, postBody } from "./http.js";

/**
 * What the fleet fetch hands its answers to: the daemon's fleet thresholds
 * (daemon/fleet/), behind this interface because sync/ must not import the
 * daemon. Validating and applying are the daemon's: only it knows its sensors.
 */
export interface FleetThresholdsTarget {
  /** The etag of the set last applied or refused, sent as If-None-Match; null: none yet. */
  lastEtag(): string | null;
  /** A 200 answer, its body parsed: checked whole, then applied or refused whole. */
  received(body: unknown, etag: string | null): void;
  /** 304: the set last seen is still the desired one. */
  unchanged(): void;
  /** No usable answer (network, timeout, 401, 5xx, not JSON): the applied set stays. */
  failed(error: string): void;
  /** The `x-sensord-thresholds` value for uploads; null before any set was fetched. */
  report(): string | null;
}

export interface FleetFetchOptions {
  /** `GET /fleet/desired` (SyncConfig.fleetEndpoint). */
  url: string;
  device: { id: string; group: string };
  /** As the uploads': connect, headers and body each. */
  timeoutMs: number;
  apiKey: () => string | null;
  target: FleetThresholdsTarget;
}

/** A desired set is at most 64 rules; anything much bigger is not one. */
const MAX_ANSWER_BYTES = 256 * 1024;
const NO_BODY = Buffer.alloc(0);

/**
 * Polls the fleet's desired thresholds once per sync cycle with
 * If-None-Match, so an unchanged set costs a 304 without a body. A poll
 * still running when the next cycle starts is joined, not doubled.
 */
export class FleetFetch {
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private readonly agent;

  constructor(private readonly options: FleetFetchOptions) {
    this.agent = createUploadAgent(this.timeouts());
  }

  poll(): Promise<void> {
    this.running ??= this.fetch().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.agent.destroy();
  }

  private timeouts() {
    const { timeoutMs } = this.options;
    return { connectTimeoutMs: timeoutMs, headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs };
  }

  private async fetch(): Promise<void> {
    const { options } = this;
    const { target } = options;
    const url = new URL(options.url);
    url.searchParams.set("device", options.device.id);
    url.searchParams.set("group", options.device.group);
    const apiKey = options.apiKey();
    const etag = target.lastEtag();
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": `sensord/${VERSION}`,
      ...(apiKey === null ? {} : { "x-api-key": apiKey }),
      ...(etag === null ? {} : { "if-none-match": `"${etag}"` }),
    };
    let answer: Awaited<ReturnType<typeof postBody>>;
    try {
      answer = await postBody(url, NO_BODY, headers, {
        ...this.timeouts(),
        method: "GET",
        maxResponseBytes: MAX_ANSWER_BYTES,
        signal: this.abort.signal,
        dispatcher: this.agent,
      });
    } catch (error) {
      if (!this.abort.signal.aborted) target.failed(describeError(error));
      return;
    }
    if (answer.status === 304) return target.unchanged();
    if (answer.status !== 200)
      return target.failed(`HTTP ${answer.status} from ${url.origin}${url.pathname}`);
    if (answer.truncated) return target.failed(`answer over ${MAX_ANSWER_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      return target.failed("answer is not JSON");
    }
    target.received(body, unquoted(answer.headers.etag));
  }
}

/** `"g3-ab12cd34"` -> `g3-ab12cd34`; a weak or missing etag names nothing. */
function unquoted(etag: string | undefined): string | null {
  const match = /^"([^"]*)"$/.exec(etag ?? "");
  return match?.[1] ?? null;
}
