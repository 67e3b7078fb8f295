import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { IngestApi } from "./api.js";
import { DashboardHosting } from "./dashboard-hosting.js";
import { IngestFunction } from "./ingest-function.js";
import { DevicePolicy } from "./iot-policy.js";
import { Network } from "./network.js";
import { declareParameters } from "./parameters.js";
import { missingRole, RetentionPolicy } from "./retention-policy.js";
import { SearchDomain } from "./search-domain.js";

export interface SensordStackProps extends StackProps {
  /** The ingest Lambda's source: cloud/aws/lambda.ts. */
  ingestEntry: string;
  /** The ISM custom resource's source: cloud/aws/ism/handler.ts. */
  ismEntry: string;
  /** The fleet page laid out by stageDashboard. */
  dashboardDir: string;
}

export const INDEX_PREFIX = "sensord";

/**
 * sensord's cloud on AWS: devices POST to the API, one Lambda runs the
 * ingest core on OpenSearch (both in a VPC), the fleet page comes from
 * CloudFront, and devices with MQTT publish their own warnings to AWS IoT.
 * Environment-agnostic (no account or region at synth, no lookups).
 */
export class SensordStack extends Stack {
  constructor(scope: Construct, id: string, props: SensordStackProps) {
    super(scope, id, props);
    const parameters = declareParameters(this);
    const network = new Network(this, "Network");
    const search = new SearchDomain(this, "Search", network, parameters);
    const dashboard = new DashboardHosting(this, "Dashboard");
    const ingest = new IngestFunction(this, "Ingest", {
      entry: props.ingestEntry,
      network,
      opensearchEndpoint: search.domain.domainEndpoint,
      indexPrefix: INDEX_PREFIX,
      iotDataEndpoint: parameters.iotDataEndpoint,
      dashboardOrigin: dashboard.origin,
    });
    search.allowHttp(ingest.function, ingest.function.role ?? missingRole());
    network.addIotDataEndpoint(parameters, ingest.function);
    new RetentionPolicy(this, "Retention", {
      entry: props.ismEntry,
      network,
      search,
      indexPrefix: INDEX_PREFIX,
      retentionDays: parameters.retentionDays,
    });
    search.applyAccessPolicy();
    const api = new IngestApi(this, "Api", {
      handler: ingest.function,
      parameters,
      dashboardOrigin: dashboard.origin,
    });
    // The stage URL, ending in "/v1/": the page resolves its paths under it.
    dashboard.deploy(props.dashboardDir, { apiBase: api.api.url });
    const devices = new DevicePolicy(this, "Devices");

    new CfnOutput(this, "IngestEndpoint", {
      value: `${api.api.url}ingest`,
      description: "sensord [sync] endpoint",
    });
    new CfnOutput(this, "ApiKeyId", {
      value: api.key.keyId,
      description:
        "aws apigateway get-api-key --include-value --api-key <this> (the value for api_key_file)",
    });
    new CfnOutput(this, "DashboardUrl", { value: `${dashboard.origin}/` });
    new CfnOutput(this, "DevicePolicyName", {
      value: devices.policy.ref,
      description: "aws iot attach-policy --policy-name <this> --target <certificate ARN>",
    });
  }
}
