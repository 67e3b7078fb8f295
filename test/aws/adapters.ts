import { request as httpRequest } from "node:http";
import { afterEach } from "vitest";
import { createLambdaHandler, type LambdaHandlerOptions } from "../../cloud/aws/lambda.js";
import { startIngestServer } from "../../cloud/index.js";
import { openStore } from "../../cloud/store/open.js";
import type { CloudStore, IngestStats } from "../../cloud/store/types.js";
import { createLogger, type Logger } from "../../core/logger.js";
import type { AdapterSetup, CaseAnswer, CaseRequest } from "../cloud/adapter-cases.js";
import { encodeRequest } from "../cloud/adapter-cases.js";
import { makeTempDir } from "../support/processes.js";
import { type EventRequest, proxyEvent } from "./proxy-events.js";

/** One way of carrying requests to the ingest core, over a fresh SQLite store. */
export interface Adapter {
  send(request: CaseRequest): Promise<CaseAnswer>;
  stats(): Promise<IngestStats>;
}

export type AdapterName = "node" | "lambda";

/** The environment the stack gives the function; the store itself is injected. */
export const LAMBDA_ENV = {
  OPENSEARCH_ENDPOINT: "https://vpc-sensord-test.eu-west-1.es.amazonaws.com",
  AWS_REGION: "eu-west-1",
};

/** A logger that keeps its lines for assertions. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", journald: false, write: (line) => lines.push(line) });
  return Object.assign(log, { lines });
}

/** Starts adapters on demand; each is closed (and its temp dir removed) after the test. */
export function useAdapters(): {
  start(name: AdapterName, setup?: AdapterSetup): Promise<Adapter>;
  lambda(
    setup?: AdapterSetup & Partial<Omit<LambdaHandlerOptions, "openStore" | "now">>,
  ): Promise<{ handler: ReturnType<typeof createLambdaHandler>; store: CloudStore }>;
} {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const tempDb = (): string => {
    const temp = makeTempDir("sensord-adapter-");
    cleanups.push(temp.cleanup);
    return `${temp.dir}/ingest.db`;
  };
  const now = (setup: AdapterSetup) =>
    setup.nowMs === undefined ? undefined : () => setup.nowMs ?? 0;

  const lambda = async (
    setup: AdapterSetup & Partial<Omit<LambdaHandlerOptions, "openStore" | "now">> = {},
  ) => {
    const store = await openStore({ db: tempDb() });
    cleanups.push(() => store.close());
    const env: Record<string, string> = { ...LAMBDA_ENV };
    if (setup.maxBody !== undefined) env.MAX_BODY_BYTES = String(setup.maxBody);
    const handler = createLambdaHandler({
      env: setup.env ?? env,
      log: setup.log ?? recordingLogger(),
      openStore: async () => store,
      now: now(setup),
    });
    return { handler, store };
  };

  const start = async (name: AdapterName, setup: AdapterSetup = {}): Promise<Adapter> => {
    if (name === "lambda") {
      const { handler, store } = await lambda(setup);
      return {
        async send(request) {
          const wire = encodeRequest(request);
          const event: EventRequest = {
            method: wire.method,
            target: request.path,
            headers: wire.headers,
            body: wire.body,
          };
          const result = await handler(proxyEvent(event));
          const headers: Record<string, string> = {};
          for (const [key, value] of Object.entries(result.headers ?? {})) {
            headers[key.toLowerCase()] = String(value);
          }
          const text = result.isBase64Encoded
            ? Buffer.from(result.body, "base64").toString("utf8")
            : result.body;
          return { status: result.statusCode, headers, text };
        },
        stats: () => store.stats(),
      };
    }
    const server = await startIngestServer({
      listen: "127.0.0.1:0",
      dbPath: tempDb(),
      maxBody: setup.maxBody,
      now: now(setup),
    });
    cleanups.push(() => server.close());
    return { send: (request) => httpSend(server.url, request), stats: () => server.stats() };
  };
  return { start, lambda };
}

/** Through node:http, which (unlike fetch) sends exactly the headers given, none added. */
function httpSend(baseUrl: string, request: CaseRequest): Promise<CaseAnswer> {
  const wire = encodeRequest(request);
  const target = new URL(`${baseUrl}${request.path}`);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: wire.method,
        headers: wire.headers,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const headers: Record<string, string> = {};
          for (const [key, value] of Object.entries(response.headers)) {
            if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(", ") : value;
          }
          resolve({
            status: response.statusCode ?? 0,
            headers,
            text: Buffer.concat(chunks).toString("utf8"),
          });
        });
      },
    );
    outgoing.on("error", reject);
    outgoing.end(wire.body);
  });
}
