import * as apigateway from "aws-cdk-lib/aws-apigateway";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { ROUTES } from "../../core/core.js";
import type { StackParameters } from "./parameters.js";

export interface IngestApiProps {
  handler: lambda.IFunction;
  parameters: StackParameters;
  /** The dashboard's https origin: the only one a browser may call the API from. */
  dashboardOrigin: string;
}

/**
 * Every route the ingest core answers, from its own table: a route added
 * there is deployed. /healthz alone needs no key (liveness probes carry no
 * secret; the answer holds only counts).
 */
export const API_ROUTES = ROUTES.routes.map((route) => ({
  method: route.method,
  path: route.path,
  apiKey: route.auth,
}));

/**
 * The REST API in front of the ingest Lambda (proxy integration). Every
 * content type is binary: sensord sends gzip bodies as
 * `application/json` + `content-encoding: gzip`, and only a binary type
 * reaches the Lambda intact (base64) instead of mangled as UTF-8. The
 * Lambda's 6 MB invocation payload, base64 included (~4.4 MB on the wire),
 * is then the real size limit, well above sensord's 256 KiB batches.
 */
export class IngestApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly key: apigateway.IApiKey;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    this.api = new apigateway.RestApi(this, "Api", {
      description: "sensord ingest: batches, original documents, the fleet dashboard's queries",
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      binaryMediaTypes: ["*/*"],
      deployOptions: {
        stageName: "v1",
        throttlingRateLimit: props.parameters.throttleRate,
        throttlingBurstLimit: props.parameters.throttleBurst,
      },
      defaultCorsPreflightOptions: {
        allowOrigins: [props.dashboardOrigin],
        // PUT and If-Match: the dashboard edits a group's thresholds.
        allowMethods: ["GET", "POST", "PUT", "OPTIONS"],
        allowHeaders: [
          "content-type",
          "content-encoding",
          "x-api-key",
          "idempotency-key",
          "index",
          "if-match",
        ],
      },
      cloudWatchRole: false,
    });
    const integration = new apigateway.LambdaIntegration(props.handler, { proxy: true });
    for (const route of API_ROUTES) {
      this.api.root
        .resourceForPath(route.path)
        .addMethod(route.method, integration, { apiKeyRequired: route.apiKey });
    }
    // With */* binary, the preflight's mock integration cannot transform an
    // empty binary body and answers 500 unless told to treat it as text.
    for (const method of this.api.methods) {
      if (method.httpMethod !== "OPTIONS") continue;
      const resource = method.node.defaultChild as apigateway.CfnMethod;
      resource.addPropertyOverride("Integration.ContentHandling", "CONVERT_TO_TEXT");
    }
    this.key = this.api.addApiKey("Key", {
      description: "x-api-key for sensord devices ([sync] api_key_file) and the fleet dashboard",
    });
    const plan = this.api.addUsagePlan("Plan", {
      description: "sensord fleet: throttling per API key",
      throttle: {
        rateLimit: props.parameters.throttleRate,
        burstLimit: props.parameters.throttleBurst,
      },
    });
    plan.addApiKey(this.key);
    plan.addApiStage({ stage: this.api.deploymentStage });
  }
}
