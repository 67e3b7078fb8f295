import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { Client } from "@opensearch-project/opensearch";
import { AwsSigv4Signer } from "@opensearch-project/opensearch/aws-v3";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import { ERROR_CODES, SensordError } from "../../../core/errors.js";
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
    super(ERROR_CODES.aws.ismPolicy, message);
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
    const answer = await send(search, { method: "DELETE", path }, [404]);
    return {
      PhysicalResourceId: event.PhysicalResourceId,
      Data: { status: String(answer.statusCode) },
    };
  }
  const existing = await send(search, { method: "GET", path }, [404]);
  // ISM refuses to overwrite a policy without the sequence numbers of the version being replaced.
  const querystring: Record<string, number> =
    existing.statusCode === 200 && isVersioned(existing.body)
      ? { if_seq_no: existing.body._seq_no, if_primary_term: existing.body._primary_term }
      : {};
  await send(
    search,
    { method: "PUT", path, querystring, body: retentionPolicyDocument(properties) },
    [],
  );
  return {
    PhysicalResourceId: properties.policyId,
    Data: { policyId: properties.policyId, retentionDays: String(properties.retentionDays) },
  };
}

/** One call; a refusal becomes an error CloudFormation shows with the domain's own words. */
async function send(
  search: Client,
  params: { method: string; path: string; querystring?: Record<string, number>; body?: unknown },
  ignore: number[],
): Promise<{ statusCode: number | null; body: unknown }> {
  try {
    return await search.transport.request(params as Parameters<Client["transport"]["request"]>[0], {
      ignore,
    });
  } catch (error) {
    const meta = (error as { meta?: { statusCode?: number; body?: unknown } }).meta;
    const status = meta?.statusCode;
    const hint =
      status === 403
        ? ": the domain's access policy must name this function's role (es:ESHttp*)"
        : status === undefined
          ? ": is the domain reachable from the function's subnets (security group, port 443)?"
          : "";
    throw new RetentionPolicyError(
      `${params.method} ${params.path} on the OpenSearch domain failed: ${status ?? (error as Error).message} ${JSON.stringify(meta?.body ?? null)}${hint}`,
    );
  }
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
