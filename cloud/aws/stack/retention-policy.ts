import { CustomResource, Duration } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import { bundledFunction } from "./bundled-function.js";
import type { Network } from "./network.js";
import type { SearchDomain } from "./search-domain.js";

export interface RetentionPolicyProps {
  /** cloud/aws/ism/handler.ts */
  entry: string;
  network: Network;
  search: SearchDomain;
  indexPrefix: string;
  retentionDays: number;
}

/**
 * The ISM policy deleting old readings indices, kept by a VPC Lambda that
 * PUTs it through the domain's REST API. The Provider framework's own
 * function (outside the VPC) answers CloudFormation, so this one needs no
 * route to S3.
 */
export class RetentionPolicy extends Construct {
  readonly resource: CustomResource;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: RetentionPolicyProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc: props.network.vpc,
      description: "sensord ISM policy custom resource",
      allowAllOutbound: true,
    });
    const onEvent = bundledFunction(this, "OnEvent", {
      entry: props.entry,
      description: "sensord: keeps the ISM retention policy on the OpenSearch domain",
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      securityGroup: this.securityGroup,
      timeout: Duration.minutes(1),
      memoryMb: 256,
    });
    props.search.allowHttp(onEvent, onEvent.role ?? missingRole());
    const provider = new cr.Provider(this, "Provider", { onEventHandler: onEvent });
    this.resource = new CustomResource(this, "Resource", {
      serviceToken: provider.serviceToken,
      resourceType: "Custom::SensordIsmPolicy",
      properties: {
        endpoint: `https://${props.search.domain.domainEndpoint}`,
        policyId: `${props.indexPrefix}-readings-retention`,
        indexPattern: `${props.indexPrefix}-readings-*`,
        retentionDays: props.retentionDays,
      },
    });
    // Includes the domain's access policy: until it names this role, every PUT is a 403.
    this.resource.node.addDependency(props.search.domain);
  }
}

export function missingRole(): never {
  throw new Error("a bundled function always has its own execution role");
}
