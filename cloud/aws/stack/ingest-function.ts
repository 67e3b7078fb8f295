import { Duration, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import { Construct } from "constructs";
import { bundledFunction } from "./bundled-function.js";
import type { Network } from "./network.js";

export interface IngestFunctionProps {
  /** cloud/aws/lambda.ts in the app; a stand-in in tests that look only at the template. */
  entry: string;
  network: Network;
  opensearchEndpoint: string;
  indexPrefix: string;
  iotDataEndpoint: string;
  /** The dashboard's https origin, for CORS answers. */
  dashboardOrigin: string;
}

/** API Gateway gives up at 29 s; the function answers (503, the device retries) before that. */
export const INGEST_TIMEOUT = Duration.seconds(25);

/**
 * The one Lambda behind every API route: the shared ingest core on the
 * OpenSearch store. No reserved concurrency: a new account's whole limit is
 * 10, and reserving any of it fails the deploy; the usage plan's throttle
 * is what bounds the load on the domain.
 */
export class IngestFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: IngestFunctionProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc: props.network.vpc,
      description: "sensord ingest Lambda",
      allowAllOutbound: true,
    });
    this.function = bundledFunction(this, "Handler", {
      entry: props.entry,
      description: "sensord ingest: /ingest, /proxyLambda, the fleet dashboard's queries",
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      timeout: INGEST_TIMEOUT,
      memoryMb: 512,
      securityGroup: this.securityGroup,
      environment: {
        OPENSEARCH_ENDPOINT: `https://${props.opensearchEndpoint}`,
        OPENSEARCH_INDEX_PREFIX: props.indexPrefix,
        IOT_DATA_ENDPOINT: props.iotDataEndpoint,
        CORS_ALLOW_ORIGIN: props.dashboardOrigin,
      },
    });
    // Warnings for devices without MQTT of their own, to pi/<group> as the original did.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["iot:Publish"],
        resources: [
          Stack.of(this).formatArn({ service: "iot", resource: "topic", resourceName: "pi/*" }),
        ],
      }),
    );
  }
}
