import { CfnCondition, CfnParameter, Fn } from "aws-cdk-lib";
import type { Construct } from "constructs";

/** What an operator chooses at `cdk deploy --parameters`, without editing code. */
export interface StackParameters {
  retentionDays: number;
  searchInstanceType: string;
  searchInstanceCount: number;
  searchVolumeGb: number;
  throttleRate: number;
  throttleBurst: number;
  /** The account's ATS data endpoint host name, or "" (no warnings published from the cloud). */
  iotDataEndpoint: string;
  /** True when iotDataEndpoint is set: gates the resources only that path needs. */
  iotPublishing: CfnCondition;
}

export function declareParameters(scope: Construct): StackParameters {
  const retentionDays = new CfnParameter(scope, "RetentionDays", {
    type: "Number",
    default: 400,
    minValue: 1,
    description: "Days a monthly readings index is kept after it was created (ISM policy)",
  });
  const searchInstanceType = new CfnParameter(scope, "SearchInstanceType", {
    type: "String",
    default: "t3.small.search",
    description:
      "OpenSearch data node instance type (t3.small.search for a lab, m7g.large.search for a fleet)",
  });
  const searchInstanceCount = new CfnParameter(scope, "SearchInstanceCount", {
    type: "Number",
    default: 2,
    minValue: 2,
    description: "OpenSearch data nodes: an even number, spread over two availability zones",
  });
  const searchVolumeGb = new CfnParameter(scope, "SearchVolumeGb", {
    type: "Number",
    default: 20,
    minValue: 10,
    description:
      "gp3 storage per OpenSearch data node, GB (readings take ~200 B each, twice with the replica; see cloud/aws/README.md)",
  });
  const throttleRate = new CfnParameter(scope, "ApiThrottleRate", {
    type: "Number",
    default: 50,
    minValue: 1,
    description: "API requests per second (steady) the usage plan allows the API key",
  });
  const throttleBurst = new CfnParameter(scope, "ApiThrottleBurst", {
    type: "Number",
    default: 100,
    minValue: 1,
    description: "API requests the usage plan allows in a burst",
  });
  const iotDataEndpoint = new CfnParameter(scope, "IotDataEndpoint", {
    type: "String",
    default: "",
    allowedPattern: "^$|^[a-z0-9]+-ats\\.iot\\.[a-z0-9-]+\\.amazonaws\\.com$",
    constraintDescription:
      "empty, or the host name `aws iot describe-endpoint --endpoint-type iot:Data-ATS` prints",
    description:
      "AWS IoT ATS data endpoint host; set it to publish warnings received at /ingest/alerts to pi/<group>",
  });
  const iotPublishing = new CfnCondition(scope, "IotPublishing", {
    expression: Fn.conditionNot(Fn.conditionEquals(iotDataEndpoint.valueAsString, "")),
  });
  return {
    retentionDays: retentionDays.valueAsNumber,
    searchInstanceType: searchInstanceType.valueAsString,
    searchInstanceCount: searchInstanceCount.valueAsNumber,
    searchVolumeGb: searchVolumeGb.valueAsNumber,
    throttleRate: throttleRate.valueAsNumber,
    throttleBurst: throttleBurst.valueAsNumber,
    iotDataEndpoint: iotDataEndpoint.valueAsString,
    iotPublishing,
  };
}
