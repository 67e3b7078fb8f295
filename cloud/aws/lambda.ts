/**
 * The sensord-ingest Lambda: API Gateway REST proxy events through the
 * shared ingest core onto OpenSearch. Bundled by the CDK stack (NodejsFunction,
 * export `handler`); compiled by tsc to dist/cloud/aws/lambda.js.
 *
 * Environment (set by the stack):
 * - OPENSEARCH_ENDPOINT      required: the domain's https:// URL (http:// for a local OpenSearch)
 * - OPENSEARCH_INDEX_PREFIX  optional, default "sensord"
 * - AWS_REGION               required (Lambda sets it): SigV4 signing and IoT Core
 * - IOT_DATA_ENDPOINT        optional: the account's iot:Data-ATS host; when set, alert
 *                            events stored by POST /ingest/alerts are published to pi/<group>
 * - CORS_ALLOW_ORIGIN        optional: the dashboard's origin (CloudFront); every answer then
 *                            carries access-control-allow-origin with it and vary: origin
 * - MAX_BODY_BYTES           optional, default 8 MiB: body limit on the wire and after gunzip
 *
 * API Gateway checks the API key (usage plan) and answers CORS preflights,
 * so the core runs without a key and without a Host check.
 */
import { IoTDataPlaneClient } from "@aws-sdk/client-iot-data-plane";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { describeError, ERROR_CODES } from "../../core/errors.js";
import { type Logger, processLogger } from "../../core/logger.js";
import { createIngestCore, type IngestCore } from "../core/core.js";
import { jsonResponse } from "../core/exchange.js";
import type { CloudStore } from "../store/types.js";
import { type LambdaConfig, LambdaConfigError, readLambdaConfig } from "./config.js";
import { createIotWarningPublisher } from "./iot-warnings.js";
import { toCoreRequest, toProxyResult } from "./proxy-event.js";

export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export interface LambdaHandlerOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Opens the store the configuration names; the OpenSearch store by default. */
  openStore?: (config: LambdaConfig, log: Logger) => Promise<CloudStore>;
  log?: Logger;
  /** Epoch ms; for tests. */
  now?: () => number;
}

interface Runtime {
  config: LambdaConfig;
  core: IngestCore;
}

/**
 * A handler that builds its store and core on the first event and reuses
 * them for the container's life. A configuration error is answered 500
 * naming the variable (the environment cannot change within a container);
 * a store that failed to open is tried again on the next event.
 */
export function createLambdaHandler(options: LambdaHandlerOptions): ProxyHandler {
  const log = options.log ?? processLogger("info");
  let runtime: Promise<Runtime> | null = null;

  const start = async (): Promise<Runtime> => {
    const config = readLambdaConfig(options.env);
    const store = await (options.openStore ?? openOpenSearch)(config, log);
    const publisher =
      config.iotDataEndpoint === null
        ? null
        : createIotWarningPublisher(
            new IoTDataPlaneClient({ region: config.region, endpoint: config.iotDataEndpoint }),
            log,
          );
    const core = createIngestCore({
      store,
      apiKey: null,
      maxBody: config.maxBody,
      allowedHosts: null,
      now: options.now,
      onAlertsStored: publisher?.onAlertsStored,
    });
    log.info(
      `ingest on ${store.kind} (${store.location}); IoT warnings ${config.iotDataEndpoint ?? "off"}; ` +
        `CORS ${config.corsAllowOrigin ?? "off"}; bodies up to ${config.maxBody} bytes`,
    );
    return { config, core };
  };

  return async (event) => {
    const started = performance.now();
    runtime ??= start().catch((error: unknown) => {
      if (!(error instanceof LambdaConfigError)) runtime = null;
      throw error;
    });
    let ready: Runtime;
    try {
      ready = await runtime;
    } catch (error) {
      return startFailure(error, log);
    }
    const request = toCoreRequest(event);
    const answer = await ready.core.handle(request);
    const result = await toProxyResult(answer, {
      corsAllowOrigin: ready.config.corsAllowOrigin,
    }).catch((error: unknown) => {
      // A CSV whose store failed mid-way: nothing is sent yet, so unlike the
      // Node server (which can only cut the connection) this can still say so.
      log.error(
        `${request.method} ${request.path} failed while reading its answer: ${describeError(error)}`,
      );
      return toProxyResult(
        jsonResponse(500, { error: "internal error", code: ERROR_CODES.ingest.internal }),
        { corsAllowOrigin: ready.config.corsAllowOrigin },
      );
    });
    const ms = (performance.now() - started).toFixed(1);
    const note = answer.note ? `: ${answer.note}` : "";
    const line = `${request.method} ${request.path} ${result.statusCode} ${ms} ms [${event.requestContext.requestId}]${note}`;
    if (result.statusCode >= 500) log.error(line);
    else if (result.statusCode >= 400) log.warn(line);
    else log.debug(line);
    return result;
  };
}

function startFailure(error: unknown, log: Logger): APIGatewayProxyResult {
  if (error instanceof LambdaConfigError) {
    log.error(`configuration error, set ${error.variable} on the function: ${error.message}`);
    const answer = jsonResponse(500, {
      error: `the function is misconfigured: ${error.message}`,
      code: error.code,
      variable: error.variable,
    });
    return { statusCode: 500, headers: answer.headers, body: String(answer.body) };
  }
  log.error(`could not open the store (retried on the next request): ${describeError(error)}`);
  const answer = jsonResponse(
    503,
    {
      error: "the store is unavailable; retry later",
      code: ERROR_CODES.ingest.storeUnavailable,
      retryAfter: 30,
    },
    undefined,
    { "retry-after": "30" },
  );
  return { statusCode: 503, headers: answer.headers, body: String(answer.body) };
}

/** Imported on first use, so tests and other stores never load the OpenSearch client; a literal path, so esbuild bundles it. */
async function openOpenSearch(config: LambdaConfig, log: Logger): Promise<CloudStore> {
  const { openOpenSearchStore } = await import("../store/opensearch/index.js");
  return openOpenSearchStore({
    node: config.opensearchEndpoint,
    indexPrefix: config.indexPrefix,
    region: config.region,
    log: (level, message) => log[level](message),
  });
}

/** The function's entry: one handler per container. */
export const handler: ProxyHandler = createLambdaHandler({ env: process.env });
