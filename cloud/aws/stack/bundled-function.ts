import { resolve } from "node:path";
import type { Duration } from "aws-cdk-lib";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { PACKAGE_ROOT } from "../../../web/server/assets.js";

const LOCK_FILE = resolve(PACKAGE_ROOT, "package-lock.json");

export interface BundledFunctionProps {
  /** The handler's TypeScript source (exports `handler`). */
  entry: string;
  description: string;
  vpc: ec2.IVpc;
  vpcSubnets: ec2.SubnetSelection;
  securityGroup: ec2.ISecurityGroup;
  timeout: Duration;
  memoryMb: number;
  environment?: Record<string, string>;
}

/**
 * A Node.js 22 arm64 function bundled by the local esbuild (no Docker), as
 * one ES module: the repository is ESM, and its CommonJS dependencies get a
 * `require` from the banner. The AWS SDK is bundled too (the pinned
 * versions the tests ran with), not taken from the runtime.
 */
export function bundledFunction(
  scope: Construct,
  id: string,
  props: BundledFunctionProps,
): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.ONE_MONTH,
  });
  return new nodejs.NodejsFunction(scope, id, {
    entry: props.entry,
    depsLockFilePath: LOCK_FILE,
    projectRoot: PACKAGE_ROOT,
    handler: "handler",
    description: props.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memoryMb,
    timeout: props.timeout,
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    securityGroups: [props.securityGroup],
    environment: props.environment ?? {},
    logGroup,
    bundling: {
      format: nodejs.OutputFormat.ESM,
      target: "node22",
      mainFields: ["module", "main"],
      externalModules: [],
      minify: true,
      sourceMap: true,
      banner:
        "import { createRequire as sensordRequire } from 'node:module'; const require = sensordRequire(import.meta.url);",
      forceDockerBundling: false,
    },
  });
}
