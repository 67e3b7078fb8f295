import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { onEvent, RetentionPolicyError, searchClient } from "../../cloud/aws/ism/handler.js";

/**
 * The ISM custom resource's handler against a loopback server answering as
 * OpenSearch's ISM API does: what it sends (signed), and how it updates
 * and deletes. No OpenSearch runs here; a deployment runs it for real.
 */
interface Received {
  method: string;
  url: string;
  authorization: string;
  body: unknown;
}

const received: Received[] = [];
let reply: (request: Received) => { status: number; body: unknown } = () => ({
  status: 200,
  body: {},
});
let server: Server;
let endpoint: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: "AKIAISMTEST",
    AWS_SECRET_ACCESS_KEY: "secret-for-the-ism-test",
    AWS_SESSION_TOKEN: "",
  });
  server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString();
      const seen: Received = {
        method: request.method ?? "",
        url: request.url ?? "",
        authorization: String(request.headers.authorization ?? ""),
        body: text === "" ? null : JSON.parse(text),
      };
      received.push(seen);
      const { status, body } = reply(seen);
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  received.length = 0;
});

afterAll(() => {
  server.close();
  process.env = savedEnv;
});

function event(
  type: "Create" | "Update" | "Delete",
  properties: Record<string, unknown> = {},
): CloudFormationCustomResourceEvent {
  const base = {
    ServiceToken: "arn:aws:lambda:eu-west-1:123456789012:function:provider",
    ResponseURL: "https://example.invalid/response",
    StackId: "arn:aws:cloudformation:eu-west-1:123456789012:stack/Sensord/1",
    RequestId: "request-1",
    LogicalResourceId: "RetentionResource",
    ResourceType: "Custom::SensordIsmPolicy",
    ResourceProperties: {
      ServiceToken: "arn:aws:lambda:eu-west-1:123456789012:function:provider",
      endpoint,
      policyId: "sensord-readings-retention",
      indexPattern: "sensord-readings-*",
      retentionDays: "400",
      ...properties,
    },
  };
  if (type === "Create") return { ...base, RequestType: "Create" };
  if (type === "Update") {
    return {
      ...base,
      RequestType: "Update",
      PhysicalResourceId: "sensord-readings-retention",
      OldResourceProperties: { ServiceToken: base.ServiceToken },
    };
  }
  return { ...base, RequestType: "Delete", PhysicalResourceId: "sensord-readings-retention" };
}

const client = (url: string) => searchClient(url, "eu-west-1");
const PATH = "/_plugins/_ism/policies/sensord-readings-retention";
const POLICY = {
  policy: {
    description: "sensord: delete sensord-readings-* indices 400 days after creation",
    default_state: "hot",
    states: [
      {
        name: "hot",
        actions: [],
        transitions: [{ state_name: "delete", conditions: { min_index_age: "400d" } }],
      },
      { name: "delete", actions: [{ delete: {} }], transitions: [] },
    ],
    ism_template: [{ index_patterns: ["sensord-readings-*"], priority: 100 }],
  },
};

describe("the ISM retention policy custom resource", () => {
  it("creates the policy with the retention, signed with SigV4 for service es", async () => {
    reply = (request) =>
      request.method === "GET" ? { status: 404, body: {} } : { status: 201, body: {} };
    const result = await onEvent(event("Create"), client);
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${PATH}`, `PUT ${PATH}`]);
    expect(received[1]?.body).toEqual(POLICY);
    for (const request of received) {
      expect(request.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIAISMTEST\/\d{8}\/eu-west-1\/es\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/,
      );
    }
    expect(result).toEqual({
      PhysicalResourceId: "sensord-readings-retention",
      Data: { policyId: "sensord-readings-retention", retentionDays: "400" },
    });
  });

  it("replaces an existing policy with the sequence numbers ISM requires", async () => {
    reply = (request) =>
      request.method === "GET"
        ? { status: 200, body: { _id: "sensord-readings-retention", _seq_no: 7, _primary_term: 2 } }
        : { status: 200, body: {} };
    await onEvent(event("Update", { retentionDays: "30" }), client);
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${PATH}`,
      `PUT ${PATH}?if_seq_no=7&if_primary_term=2`,
    ]);
    expect(JSON.stringify(received[1]?.body)).toContain('"min_index_age":"30d"');
  });

  it("deletes the policy with the stack, and a policy already gone is no failure", async () => {
    reply = () => ({ status: 404, body: { error: "not found" } });
    const result = await onEvent(event("Delete"), client);
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual([`DELETE ${PATH}`]);
    expect(result.PhysicalResourceId).toBe("sensord-readings-retention");
  });

  it("fails the deployment when the domain refuses the PUT (e.g. the role is not in its policy)", async () => {
    reply = (request) =>
      request.method === "GET"
        ? { status: 404, body: {} }
        : { status: 403, body: { message: "no permissions" } };
    await expect(onEvent(event("Create"), client)).rejects.toThrow(
      new RetentionPolicyError(
        `PUT ${PATH} on the OpenSearch domain failed: 403 {"message":"no permissions"}: the domain's access policy must name this function's role (es:ESHttp*)`,
      ),
    );
  });

  it("refuses a retention that is not a whole number of days, naming the parameter", async () => {
    await expect(onEvent(event("Create", { retentionDays: "0" }), client)).rejects.toThrow(
      new RetentionPolicyError(
        'retentionDays "0" is not a whole number of days >= 1 (stack parameter RetentionDays)',
      ),
    );
    expect(received).toEqual([]);
  });
});
