import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stageDashboard } from "../../cloud/aws/stack/dashboard-files.js";
import { SensordStack } from "../../cloud/aws/stack/sensord-stack.js";
import { makeBatch, OPENSEARCH_ENV, originalDocument, readings } from "../cloud/helpers.js";
import { type OpenSearchStandIn, startOpenSearchStandIn } from "../support/opensearch/server.js";
import { ROOT } from "../support/processes.js";
import { proxyEvent } from "./proxy-events.js";

/**
 * The synthesized CloudFormation template (synth once: it bundles two
 * Lambdas with esbuild). Nothing here deploys; this is what the template
 * promises, checked resource by resource, and the ingest bundle it would
 * deploy, run against the OpenSearch stand-in.
 */
let template: Template;
let json: { Resources: Record<string, Resource>; Parameters: Record<string, unknown> };
const outdir = mkdtempSync(join(tmpdir(), "sensord-cdk-"));

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  Condition?: string;
}

beforeAll(() => {
  const app = new App({ outdir });
  const stack = new SensordStack(app, "Sensord", {
    ingestEntry: resolve(ROOT, "cloud/aws/lambda.ts"),
    ismEntry: resolve(ROOT, "cloud/aws/ism/handler.ts"),
    dashboardDir: stageDashboard(ROOT, join(outdir, "dashboard-files")),
  });
  template = Template.fromStack(stack);
  json = template.toJSON() as typeof json;
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function ofType(type: string): Array<[string, Resource]> {
  return Object.entries(json.Resources).filter(([, resource]) => resource.Type === type);
}

function only(type: string): Resource {
  const found = ofType(type);
  expect(found, type).toHaveLength(1);
  return (found[0] as [string, Resource])[1];
}

/** "/readings/series" for a method, from the Resource chain it hangs off. */
function pathOf(resourceRef: unknown): string {
  const ref = resourceRef as { Ref?: string; "Fn::GetAtt"?: string[] };
  if (ref["Fn::GetAtt"] !== undefined) return "";
  const resource = json.Resources[ref.Ref ?? ""];
  const properties = resource?.Properties ?? {};
  return `${pathOf(properties.ParentId)}/${String(properties.PathPart)}`;
}

describe("the API", () => {
  it("has every route, the API key on each data route and none on /healthz or the preflights", () => {
    const methods = ofType("AWS::ApiGateway::Method").map(([, method]) => {
      const p = method.Properties ?? {};
      return {
        route: `${String(p.HttpMethod)} ${pathOf(p.ResourceId)}`,
        apiKey: p.ApiKeyRequired === true,
      };
    });
    const routes = methods.filter((m) => !m.route.startsWith("OPTIONS"));
    expect(routes.sort((a, b) => a.route.localeCompare(b.route))).toEqual([
      { route: "GET /alerts", apiKey: true },
      { route: "GET /devices", apiKey: true },
      { route: "GET /fleet/desired", apiKey: true },
      { route: "GET /fleet/thresholds", apiKey: true },
      { route: "GET /fleet/thresholds/history", apiKey: true },
      { route: "GET /fleet/thresholds/status", apiKey: true },
      { route: "GET /healthz", apiKey: false },
      { route: "GET /readings", apiKey: true },
      { route: "GET /readings.csv", apiKey: true },
      { route: "GET /readings/series", apiKey: true },
      { route: "POST /ingest", apiKey: true },
      { route: "POST /ingest/alerts", apiKey: true },
      { route: "POST /proxyLambda", apiKey: true },
      { route: "PUT /fleet/thresholds", apiKey: true },
    ]);
    // A browser's preflight cannot carry the key.
    for (const preflight of methods.filter((m) => m.route.startsWith("OPTIONS"))) {
      expect(preflight.apiKey, preflight.route).toBe(false);
    }
  });

  it("sends every data route to the ingest Lambda as a proxy integration", () => {
    for (const [, method] of ofType("AWS::ApiGateway::Method")) {
      const integration = method.Properties?.Integration as Record<string, unknown>;
      if (method.Properties?.HttpMethod === "OPTIONS") continue;
      expect(integration.Type).toBe("AWS_PROXY");
      expect(JSON.stringify(integration.Uri)).toContain("IngestHandler");
    }
  });

  it("lets gzip bodies through as binary and answers preflights from the dashboard's origin only", () => {
    template.hasResourceProperties("AWS::ApiGateway::RestApi", { BinaryMediaTypes: ["*/*"] });
    const preflights = ofType("AWS::ApiGateway::Method").filter(
      ([, m]) => m.Properties?.HttpMethod === "OPTIONS",
    );
    expect(preflights.length).toBeGreaterThanOrEqual(9);
    for (const [, preflight] of preflights) {
      const integration = preflight.Properties?.Integration as Record<string, unknown>;
      // Without it, */* binary makes the mock integration answer 500.
      expect(integration.ContentHandling).toBe("CONVERT_TO_TEXT");
      const origin = JSON.stringify(integration.IntegrationResponses);
      expect(origin).toContain("DashboardDistribution");
      expect(origin).not.toContain("'*'");
      expect(origin).toContain("x-api-key");
      // The dashboard edits fleet thresholds: PUT with If-Match.
      expect(origin).toContain("if-match");
      expect(origin).toContain("GET,POST,PUT,OPTIONS");
    }
  });

  it("has an API key in a usage plan throttled by the stack parameters", () => {
    only("AWS::ApiGateway::ApiKey");
    template.hasResourceProperties("AWS::ApiGateway::UsagePlan", {
      Throttle: { RateLimit: { Ref: "ApiThrottleRate" }, BurstLimit: { Ref: "ApiThrottleBurst" } },
      ApiStages: [Match.objectLike({ Stage: Match.anyValue() })],
    });
    only("AWS::ApiGateway::UsagePlanKey");
  });
});

describe("the ingest Lambda's bundle (the code CloudFormation would deploy)", () => {
  let standIn: OpenSearchStandIn;
  beforeAll(async () => {
    standIn = await startOpenSearchStandIn();
  });
  afterAll(() => standIn.stop());

  /** The asset directory of the function whose environment names OPENSEARCH_ENDPOINT. */
  function ingestBundle(): string {
    const [, fn] =
      ofType("AWS::Lambda::Function").find(([id]) => id.startsWith("IngestHandler")) ?? [];
    const props = fn?.Properties ?? {};
    expect(props.Handler).toBe("index.handler");
    const key = String((props.Code as { S3Key: string }).S3Key);
    return join(outdir, `asset.${key.replace(/\.zip$/, "")}`, "index.mjs");
  }

  /**
   * Imports the bundle in a Node process of its own, as Lambda would, and
   * hands it each event in turn (asynchronously: the stand-in answers from
   * this process).
   */
  async function invoke(events: APIGatewayProxyEvent[]): Promise<APIGatewayProxyResult[]> {
    const runner = `import { readFileSync } from "node:fs";
      const { handler } = await import(process.argv[1]);
      const results = [];
      for (const event of JSON.parse(readFileSync(0, "utf8"))) results.push(await handler(event, {}));
      process.stdout.write(JSON.stringify(results));`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", runner, ingestBundle()], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? "", ...OPENSEARCH_ENV, OPENSEARCH_ENDPOINT: standIn.url },
    });
    child.stdin.end(JSON.stringify(events));
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => child.on("close", done));
    expect(code, stderr).toBe(0);
    return JSON.parse(stdout) as APIGatewayProxyResult[];
  }

  it("stores a gzip'd batch sent twice once, reads the original format and answers the dashboard's routes", async () => {
    const batch = gzipSync(JSON.stringify(makeBatch("bundle-1", readings(0, 8))));
    const original = Buffer.from(JSON.stringify(originalDocument("doc-bundle")));
    const gzipHeaders = { "Content-Type": "application/json", "Content-Encoding": "gzip" };
    // The same readings again under another batch id: a device that lost its queue state.
    const rebatched = gzipSync(JSON.stringify(makeBatch("bundle-2", readings(0, 8))));
    const [first, replayed, second, legacy, listed] = await invoke([
      proxyEvent({ method: "POST", target: "/ingest", headers: gzipHeaders, body: batch }),
      proxyEvent({ method: "POST", target: "/ingest", headers: gzipHeaders, body: batch }),
      proxyEvent({ method: "POST", target: "/ingest", headers: gzipHeaders, body: rebatched }),
      proxyEvent({
        method: "POST",
        target: "/proxyLambda",
        headers: { "Content-Type": "application/json", index: "sensor-data" },
        body: original,
      }),
      proxyEvent({ method: "GET", target: "/readings?device=pi-1&limit=100" }),
    ]);
    expect([first?.statusCode, JSON.parse(first?.body ?? "{}")]).toEqual([
      200,
      { accepted: 8, duplicates: 0, batchId: "bundle-1" },
    ]);
    expect([
      replayed?.statusCode,
      replayed?.body,
      replayed?.headers?.["idempotent-replayed"],
    ]).toEqual([200, first?.body, "true"]);
    expect([second?.statusCode, JSON.parse(second?.body ?? "{}")]).toEqual([
      200,
      { accepted: 0, duplicates: 8, batchId: "bundle-2" },
    ]);
    expect(legacy?.statusCode).toBe(200);
    const stored = standIn.documents("sensord-readings-*");
    // 8 from the batch (once), 4 gases from the original document.
    expect(stored).toHaveLength(12);
    expect(
      stored.filter((doc) => doc.id.startsWith("testprefix-")).map((doc) => doc.index),
    ).toEqual(Array(8).fill("sensord-readings-2026-11"));
    const answered = JSON.parse(listed?.body ?? "{}") as { readings: Array<{ id: string }> };
    expect([listed?.statusCode, answered.readings.map((reading) => reading.id)]).toEqual([
      200,
      readings(0, 8).map((reading) => reading.id),
    ]);
  });
});

describe("the ingest Lambda", () => {
  const ingest = (): Record<string, unknown> => {
    const found = ofType("AWS::Lambda::Function").filter(([id]) => id.startsWith("IngestHandler"));
    expect(found).toHaveLength(1);
    return (found[0] as [string, Resource])[1].Properties ?? {};
  };

  it("is Node.js 22 on arm64, in the VPC's private subnets, with a timeout under API Gateway's 29 s", () => {
    const props = ingest();
    expect(props.Runtime).toBe("nodejs22.x");
    expect(props.Architectures).toEqual(["arm64"]);
    expect(props.Timeout).toBeLessThan(29);
    const vpc = props.VpcConfig as { SubnetIds: Array<{ Ref: string }> };
    expect(vpc.SubnetIds.map((s) => s.Ref).sort()).toEqual(privateSubnetIds());
  });

  it("gets the OpenSearch endpoint, the index prefix, the IoT endpoint parameter and the dashboard origin", () => {
    const env = (ingest().Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env).sort()).toEqual([
      "CORS_ALLOW_ORIGIN",
      "IOT_DATA_ENDPOINT",
      "OPENSEARCH_ENDPOINT",
      "OPENSEARCH_INDEX_PREFIX",
    ]);
    expect(env.OPENSEARCH_INDEX_PREFIX).toBe("sensord");
    expect(env.IOT_DATA_ENDPOINT).toEqual({ Ref: "IotDataEndpoint" });
    expect(JSON.stringify(env.OPENSEARCH_ENDPOINT)).toMatch(
      /"https:\/\/".*SearchDomain.*DomainEndpoint/,
    );
    expect(JSON.stringify(env.CORS_ALLOW_ORIGIN)).toMatch(
      /"https:\/\/".*DashboardDistribution.*DomainName/,
    );
  });

  it("keeps its logs for a month", () => {
    const groups = ofType("AWS::Logs::LogGroup").map(([, g]) => g.Properties?.RetentionInDays);
    expect(groups).toEqual([30, 30]);
  });
});

function privateSubnetIds(): string[] {
  const subnets = ofType("AWS::EC2::Subnet");
  for (const [, subnet] of subnets) expect(subnet.Properties?.MapPublicIpOnLaunch).toBe(false);
  // No internet gateway, no NAT: the subnets are private by construction.
  expect(ofType("AWS::EC2::InternetGateway")).toEqual([]);
  expect(ofType("AWS::EC2::NatGateway")).toEqual([]);
  return subnets.map(([id]) => id).sort();
}

describe("the OpenSearch domain", () => {
  it("lives in the private subnets with encryption at rest, node-to-node and HTTPS-only TLS 1.2", () => {
    const domain = only("AWS::OpenSearchService::Domain").Properties ?? {};
    const vpc = domain.VPCOptions as { SubnetIds: Array<{ Ref: string }> };
    expect(vpc.SubnetIds.map((s) => s.Ref).sort()).toEqual(privateSubnetIds());
    expect(domain.EncryptionAtRestOptions).toEqual({ Enabled: true });
    expect(domain.NodeToNodeEncryptionOptions).toEqual({ Enabled: true });
    expect(domain.DomainEndpointOptions).toEqual({
      EnforceHTTPS: true,
      TLSSecurityPolicy: "Policy-Min-TLS-1-2-2019-07",
    });
    expect(domain.ClusterConfig).toMatchObject({
      InstanceType: { Ref: "SearchInstanceType" },
      InstanceCount: { Ref: "SearchInstanceCount" },
    });
    expect(domain.EBSOptions).toEqual({
      EBSEnabled: true,
      VolumeSize: { Ref: "SearchVolumeGb" },
      VolumeType: "gp3",
    });
  });

  it("lets in only the two Lambda roles, and only es:ESHttp*", () => {
    const policy = only("Custom::OpenSearchAccessPolicy").Properties ?? {};
    const text = JSON.stringify(policy.Create);
    expect(text).toContain("es:ESHttp*");
    // One statement, one action.
    expect(text.match(/Action/g)).toHaveLength(1);
    const principals = new Set(
      [...text.matchAll(/"Fn::GetAtt":\["(\w+ServiceRole\w*)","Arn"\]/g)].map((m) => m[1]),
    );
    expect([...principals].sort()).toEqual([
      expect.stringMatching(/^IngestHandlerServiceRole/),
      expect.stringMatching(/^RetentionOnEventServiceRole/),
    ]);
  });

  it("accepts HTTPS from the Lambdas' security groups and nothing else", () => {
    const ingress = ofType("AWS::EC2::SecurityGroupIngress")
      .map(([, rule]) => rule.Properties ?? {})
      .filter((rule) => JSON.stringify(rule.GroupId).includes("SearchSecurityGroup"));
    expect(
      ingress
        .map((rule) => [rule.FromPort, rule.ToPort, JSON.stringify(rule.SourceSecurityGroupId)])
        .sort(),
    ).toEqual([
      [443, 443, expect.stringContaining("IngestSecurityGroup")],
      [443, 443, expect.stringContaining("RetentionSecurityGroup")],
    ]);
  });
});

describe("the ISM retention policy", () => {
  it("is a custom resource with the retention parameter, the readings pattern, run by a VPC Lambda", () => {
    const policy = only("Custom::SensordIsmPolicy").Properties ?? {};
    expect(policy.retentionDays).toEqual({ Ref: "RetentionDays" });
    expect(policy.indexPattern).toBe("sensord-readings-*");
    expect(policy.policyId).toBe("sensord-readings-retention");
    expect(JSON.stringify(policy.endpoint)).toMatch(/"https:\/\/".*SearchDomain.*DomainEndpoint/);
    const onEvent = ofType("AWS::Lambda::Function").find(([id]) =>
      id.startsWith("RetentionOnEvent"),
    );
    const vpc = (onEvent?.[1].Properties?.VpcConfig ?? {}) as { SubnetIds: Array<{ Ref: string }> };
    expect(vpc.SubnetIds.map((s) => s.Ref).sort()).toEqual(privateSubnetIds());
  });

  it("waits for the domain's access policy (else its first PUT is refused)", () => {
    const [, resource] = ofType("Custom::SensordIsmPolicy")[0] as [
      string,
      Resource & { DependsOn?: string[] },
    ];
    expect(resource.DependsOn).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SearchDomainAccessPolicy/)]),
    );
  });
});

// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS IoT policy variables, written as the policy must hold them
const THING = "${iot:Connection.Thing.ThingName}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS IoT policy variables, written as the policy must hold them
const GROUP = "${iot:Connection.Thing.Attributes[group]}";

describe("AWS IoT", () => {
  it("lets a thing connect as itself and publish only to pi/<its group> and its own status topic", () => {
    const document = only("AWS::IoT::Policy").Properties?.PolicyDocument as {
      Statement: Array<Record<string, unknown>>;
    };
    const arn = (kind: string, name: string) => ({
      "Fn::Join": [
        "",
        [
          "arn:",
          { Ref: "AWS::Partition" },
          ":iot:",
          { Ref: "AWS::Region" },
          ":",
          { Ref: "AWS::AccountId" },
          `:${kind}/${name}`,
        ],
      ],
    });
    const status = arn("topic", `sensord/${THING}/status`);
    expect(document.Statement).toEqual([
      {
        Effect: "Allow",
        Action: "iot:Connect",
        Resource: arn("client", THING),
        Condition: { Bool: { "iot:Connection.Thing.IsAttached": "true" } },
      },
      {
        Effect: "Allow",
        Action: "iot:Publish",
        Resource: [arn("topic", `pi/${GROUP}`), status],
      },
      { Effect: "Allow", Action: "iot:RetainPublish", Resource: status },
      {
        Effect: "Allow",
        Action: "iot:Subscribe",
        Resource: [
          arn("topicfilter", `homeassistant/sensor/${THING}/+/config`),
          arn("topicfilter", `homeassistant/binary_sensor/${THING}/+/config`),
        ],
      },
    ]);
  });

  it("reaches IoT's data plane from the VPC only when the IotDataEndpoint parameter is set", () => {
    for (const type of [
      "AWS::EC2::VPCEndpoint",
      "AWS::Route53::HostedZone",
      "AWS::Route53::RecordSet",
    ]) {
      expect(only(type).Condition, type).toBe("IotPublishing");
    }
    template.hasResourceProperties("AWS::Route53::HostedZone", { Name: Match.anyValue() });
    expect(JSON.stringify(only("AWS::Route53::HostedZone").Properties?.Name)).toContain(
      "IotDataEndpoint",
    );
  });
});

describe("the dashboard", () => {
  it("sits in a private bucket that refuses plain HTTP, read by CloudFront through origin access control", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    only("AWS::CloudFront::OriginAccessControl");
    const distribution = only("AWS::CloudFront::Distribution").Properties?.DistributionConfig as {
      Origins: Array<Record<string, unknown>>;
      DefaultRootObject: string;
    };
    expect(distribution.DefaultRootObject).toBe("index.html");
    expect(distribution.Origins).toHaveLength(1);
    expect(distribution.Origins[0]?.OriginAccessControlId).toBeDefined();
    // The legacy origin access identity is not used.
    expect(ofType("AWS::CloudFront::CloudFrontOriginAccessIdentity")).toEqual([]);
    const bucketPolicy = only("AWS::S3::BucketPolicy").Properties ?? {};
    const { Statement: statements } = bucketPolicy.PolicyDocument as {
      Statement: Array<Record<string, unknown>>;
    };
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Allow",
        Action: "s3:GetObject",
        Principal: { Service: "cloudfront.amazonaws.com" },
      }),
    );
  });

  it("deploys the page, its scripts and uPlot, and config.json naming the API's stage URL", () => {
    const deployment = only("Custom::CDKBucketDeployment").Properties ?? {};
    const keys = deployment.SourceObjectKeys as string[];
    expect(keys).toHaveLength(2);
    // Source.jsonData's asset: the URL's parts are markers the deployment fills in with the API and stage.
    const config = readFileSync(
      join(outdir, `asset.${keys[1]?.replace(/\.zip$/, "")}`, "config.json"),
      "utf8",
    );
    expect(config).toBe(
      '{"apiBase":"https://<<marker:0xbaba:0>>.execute-api.<<marker:0xbaba:1>>.<<marker:0xbaba:2>>/<<marker:0xbaba:3>>/"}',
    );
    const markers = (deployment.SourceMarkers as Array<Record<string, { Ref: string }>>)[1] ?? {};
    expect(markers["<<marker:0xbaba:0>>"]?.Ref).toMatch(/^Api[0-9A-F]{8}$/);
    expect(markers["<<marker:0xbaba:3>>"]?.Ref).toMatch(/^ApiDeploymentStagev1/);
    const staged = join(outdir, "dashboard-files");
    expect(readFileSync(join(staged, "index.html"), "utf8")).toContain("/static/js/fleet.js");
    for (const file of [
      "static/js/fleet.js",
      "static/js/api.js",
      "static/js/uplot.js",
      "static/js/uplot.css",
      "static/dashboard.css",
    ]) {
      expect(() => readFileSync(join(staged, file)), file).not.toThrow();
    }
  });
});

describe("the stack as a whole", () => {
  it("takes retention, OpenSearch size, API throttling and the IoT endpoint as parameters", () => {
    expect(Object.keys(json.Parameters)).toEqual(
      expect.arrayContaining([
        "RetentionDays",
        "SearchInstanceType",
        "SearchInstanceCount",
        "SearchVolumeGb",
        "ApiThrottleRate",
        "ApiThrottleBurst",
        "IotDataEndpoint",
      ]),
    );
  });

  it("grants nothing to a wildcard principal in any policy document of the template", () => {
    const allows: unknown[] = [];
    const denies: unknown[] = [];
    walk(json, (statement) => {
      const principal = JSON.stringify(statement.Principal ?? null);
      if (!/"\*"/.test(principal)) return;
      (statement.Effect === "Allow" ? allows : denies).push(statement);
    });
    expect(allows).toEqual([]);
    // The one "*": the bucket's deny of plain-HTTP requests, which must apply to everyone.
    expect(denies).toEqual([
      expect.objectContaining({ Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    ]);
  });
});

/** Every object with an Effect, anywhere: policies hide in custom resources' JSON strings and joins too. */
function walk(value: unknown, visit: (statement: Record<string, unknown>) => void): void {
  if (typeof value === "string") {
    if (value.includes("Effect")) {
      try {
        walk(JSON.parse(value), visit);
      } catch {
        // A string that only mentions Effect; nothing to walk.
      }
    }
    return;
  }
  if (typeof value !== "object" || value === null) return;
  // A policy built around tokens is a Fn::Join of text pieces: walk the text with the tokens as placeholders.
  const join = (value as Record<string, unknown>)["Fn::Join"];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    const pieces = join[1] as unknown[];
    walk(
      pieces.map((piece) => (typeof piece === "string" ? piece : "TOKEN")).join(String(join[0])),
      visit,
    );
  }
  if (!Array.isArray(value) && "Effect" in value) visit(value as Record<string, unknown>);
  for (const child of Object.values(value)) walk(child, visit);
}
