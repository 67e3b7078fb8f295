import { resolve } from "node:path";
import { App } from "aws-cdk-lib";
import { PACKAGE_ROOT } from "../../web/server/assets.js";
import { stageDashboard } from "./stack/dashboard-files.js";
import { SensordStack } from "./stack/sensord-stack.js";

/**
 * The CDK app (cdk.json runs the compiled copy in dist/): one
 * environment-agnostic stack, so `cdk synth` needs no account and no network.
 */
const app = new App();
new SensordStack(app, "Sensord", {
  description: "sensord fleet cloud: API Gateway, Lambda, OpenSearch, IoT Core policy, dashboard",
  ingestEntry: resolve(PACKAGE_ROOT, "cloud/aws/lambda.ts"),
  ismEntry: resolve(PACKAGE_ROOT, "cloud/aws/ism/handler.ts"),
  dashboardDir: stageDashboard(PACKAGE_ROOT, resolve(app.outdir, "dashboard-files")),
});
app.synth();
