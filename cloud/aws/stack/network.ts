import { CfnResource } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as route53 from "aws-cdk-lib/aws-route53";
import * as targets from "aws-cdk-lib/aws-route53-targets";
import { Construct } from "constructs";
import type { StackParameters } from "./parameters.js";

/**
 * Two private subnets and no NAT gateway: the Lambdas reach only OpenSearch
 * (in the VPC) and, when warnings are published, AWS IoT through an
 * interface endpoint. A NAT gateway would cost ~$33/month per AZ before any
 * traffic for access nothing here needs.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly privateSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [
        { name: "private", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });
  }

  /**
   * AWS IoT's data plane inside the VPC, only when publishing is on. The
   * endpoint has no private DNS of its own: a private zone named after the
   * account's ATS host answers with the endpoint, so the Lambda keeps using
   * the real host name and TLS still verifies it.
   */
  addIotDataEndpoint(parameters: StackParameters, clients: ec2.IConnectable): void {
    const endpoint = new ec2.InterfaceVpcEndpoint(this, "IotData", {
      vpc: this.vpc,
      service: ec2.InterfaceVpcEndpointAwsService.IOT_CORE,
      subnets: this.privateSubnets,
      privateDnsEnabled: false,
      open: false,
    });
    endpoint.connections.allowFrom(
      clients,
      ec2.Port.tcp(443),
      "the ingest Lambda publishes warnings",
    );
    const zone = new route53.PrivateHostedZone(this, "IotDataZone", {
      vpc: this.vpc,
      zoneName: parameters.iotDataEndpoint,
    });
    const record = new route53.ARecord(this, "IotDataRecord", {
      zone,
      target: route53.RecordTarget.fromAlias(new targets.InterfaceVpcEndpointTarget(endpoint)),
    });
    for (const construct of [endpoint, zone, record]) {
      for (const child of construct.node.findAll()) {
        if (child instanceof CfnResource) child.cfnOptions.condition = parameters.iotPublishing;
      }
    }
  }
}
