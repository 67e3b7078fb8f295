import { RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as opensearch from "aws-cdk-lib/aws-opensearchservice";
import { Construct } from "constructs";
import type { Network } from "./network.js";
import type { StackParameters } from "./parameters.js";

/**
 * The OpenSearch domain, reachable only inside the VPC, over HTTPS, by the
 * IAM roles given to grantReadWrite. No fine-grained access control: IAM
 * on the domain policy is the only gate, and only our Lambdas pass it.
 */
export class SearchDomain extends Construct {
  readonly domain: opensearch.Domain;
  readonly securityGroup: ec2.SecurityGroup;
  private readonly writers: iam.IRole[] = [];

  constructor(scope: Construct, id: string, network: Network, parameters: StackParameters) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc: network.vpc,
      description: "OpenSearch domain: HTTPS from the sensord Lambdas only",
      allowAllOutbound: false,
    });
    this.domain = new opensearch.Domain(this, "Domain", {
      version: opensearch.EngineVersion.OPENSEARCH_2_19,
      capacity: {
        dataNodes: parameters.searchInstanceCount,
        dataNodeInstanceType: parameters.searchInstanceType,
        multiAzWithStandbyEnabled: false,
      },
      zoneAwareness: { enabled: true, availabilityZoneCount: 2 },
      ebs: { volumeSize: parameters.searchVolumeGb, volumeType: ec2.EbsDeviceVolumeType.GP3 },
      vpc: network.vpc,
      vpcSubnets: [network.privateSubnets],
      securityGroups: [this.securityGroup],
      encryptionAtRest: { enabled: true },
      nodeToNodeEncryption: true,
      enforceHttps: true,
      tlsSecurityPolicy: opensearch.TLSSecurityPolicy.TLS_1_2,
      // The readings are the product: a stack deleted by mistake must not take them along.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Lets `role` call the domain's HTTP API (IAM policy) and names it in the domain's own policy. */
  allowHttp(grantee: iam.IGrantable & ec2.IConnectable, role: iam.IRole): void {
    this.writers.push(role);
    this.domain.grantReadWrite(grantee);
    this.securityGroup.connections.allowFrom(
      grantee,
      ec2.Port.tcp(443),
      "HTTPS from a sensord Lambda",
    );
  }

  /** The domain's resource policy: es:ESHttp* for exactly the roles passed to allowHttp, nobody else. */
  applyAccessPolicy(): void {
    this.domain.addAccessPolicies(
      new iam.PolicyStatement({
        effect: iam.Effect.ALLOW,
        principals: this.writers.map((role) => new iam.ArnPrincipal(role.roleArn)),
        actions: ["es:ESHttp*"],
        resources: [`${this.domain.domainArn}/*`],
      }),
    );
  }
}
