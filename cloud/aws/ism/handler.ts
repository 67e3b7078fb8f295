import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { Client } from "@opensearch-project/opensearch";
import { AwsSigv4Signer } from "@opensearch-project/opensearch/aws-v3";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import { SensordError } from "../../../daemon/errors.js";
import { type RetentionPolicySpec, retentionPolicyDocument } from "./policy.js";

/**
 * Custom resource (CDK Provider framework, which answers CloudFormation)
 * that keeps the ISM retention policy on the OpenSearch domain: ISM lives
 * in the domain's REST API, not in CloudFormation. Runs in the VPC (the
 * domain has no public endpoint) and signs with SigV4 as the Lambda's role.
 */
export interface ProviderResult {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

export class RetentionPolicyError extends SensordError {
  constructor(message: string) {
    super("AWS_ISM_POLICY", message);
  }
}

interface Properties extends RetentionPolicySpec {
  endpoint: string;
}

export function readProperties(raw: Record<string, unknown>): Properties {
  const text = (name: string): string => {
    const value = raw[name];
    if (typeof value !== "string" || value === "") {
      throw new RetentionPolicyError(
        `resource property ${name} is missing: the stack must pass it`,
      );
    }
    return value;
  };
  // CloudFormation hands every property over as a string.
  const retentionDays = Number(text("retentionDays"));
  if (!Number.isSafeInteger(retentionDays) || retentionDays < 1) {
    throw new RetentionPolicyError(
      `retentionDays "${String(raw.retentionDays)}" is not a whole number of days >= 1 (stack parameter RetentionDays)`,
    );
  }
  return {
    endpoint: text("endpoint"),
    policyId: text("policyId"),
    indexPattern: text("indexPattern"),
    retentionDays,
  };
}

/** Signed client for the domain; tests pass their own endpoint and credentials. */
export function searchClient(endpoint: string, region: string): Client {
  return new Client({
    ...AwsSigv4Signer({ region, service: "es", getCredentials: defaultProvider() }),
    node: endpoint,
    requestTimeout: 20_000,
  });
}

export async function onEvent(
  event: CloudFormationCustomResourceEvent,
  client: (endpoint: string) => Client,
): Promise<ProviderResult> {
  const properties = readProperties(event.ResourceProperties);
  const search = client(properties.endpoint);
  const path = `/_plugins/_ism/policies/${encodeURIComponent(properties.policyId)}`;
  if (event.RequestType === "Delete") {
    // The domain is retained on stack deletion; a policy left behind would go on deleting its data.
    const answer = await search.transport.request({ method: "DELETE", path }, { ignore: [404] });
    return {
      PhysicalResourceId: event.PhysicalResourceId,
      Data: { status: String(answer.statusCode) },
    };
  }
  const existing = await search.transport.request({ method: "GET", path }, { ignore: [404] });
  // ISM refuses to overwrite a policy without the sequence numbers of the version being replaced.
  const querystring =
    existing.statusCode === 200 && isVersioned(existing.body)
      ? { if_seq_no: existing.body._seq_no, if_primary_term: existing.body._primary_term }
      : {};
  await search.transport.request({
    method: "PUT",
    path,
    querystring,
    body: retentionPolicyDocument(properties),
  });
  return {
    PhysicalResourceId: properties.policyId,
    Data: { policyId: properties.policyId, retentionDays: String(properties.retentionDays) },
  };
}

function isVersioned(body: unknown): body is { _seq_no: number; _primary_term: number } {
  return (
    typeof body === "object" &&
    body !== null &&
    "_seq_no" in body &&
    typeof body._seq_no === "number" &&
    "_primary_term" in body &&
    typeof body._primary_term === "number"
  );
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<ProviderResult> {
  const region = process.env.AWS_REGION;
  if (region === undefined || region === "") {
    throw new RetentionPolicyError(
      "AWS_REGION is not set (Lambda sets it; set it when running locally)",
    );
  }
  return onEvent(event, (endpoint) => searchClient(endpoint, region));
}
