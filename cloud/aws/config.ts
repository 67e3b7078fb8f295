import { ERROR_CODES, SensordError } from "../../core/errors.js";
import { DEFAULT_MAX_BODY } from "../core/decode.js";

/**
 * The Lambda's configuration, read from its environment (set by the CDK
 * stack, cloud/aws/stack*). The variables are listed at the top of lambda.ts.
 */
export interface LambdaConfig {
  /** The OpenSearch domain's URL, e.g. https://vpc-sensord-abc.eu-west-1.es.amazonaws.com */
  opensearchEndpoint: string;
  indexPrefix: string;
  region: string;
  /** https://<prefix>-ats.iot.<region>.amazonaws.com, or null: warnings are not published. */
  iotDataEndpoint: string | null;
  /** The dashboard's origin, sent back as access-control-allow-origin; null sends no CORS header. */
  corsAllowOrigin: string | null;
  maxBody: number;
}

export const DEFAULT_INDEX_PREFIX = "sensord";

/** A missing or malformed variable; `variable` names it so the 500 and the log line say what to set. */
export class LambdaConfigError extends SensordError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(ERROR_CODES.aws.lambdaConfig, `${variable}: ${message}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export function readLambdaConfig(env: Env): LambdaConfig {
  return {
    opensearchEndpoint: opensearchEndpoint(env.OPENSEARCH_ENDPOINT),
    indexPrefix: indexPrefix(env.OPENSEARCH_INDEX_PREFIX),
    region: required(
      env,
      "AWS_REGION",
      "the AWS region (Lambda sets it; set it when running locally)",
    ),
    iotDataEndpoint: iotDataEndpoint(env.IOT_DATA_ENDPOINT),
    corsAllowOrigin: corsOrigin(env.CORS_ALLOW_ORIGIN),
    maxBody: maxBody(env.MAX_BODY_BYTES),
  };
}

function required(env: Env, variable: string, what: string): string {
  const value = env[variable]?.trim() ?? "";
  if (value === "") throw new LambdaConfigError(variable, `not set: expected ${what}`);
  return value;
}

function opensearchEndpoint(raw: string | undefined): string {
  const value = raw?.trim() ?? "";
  const variable = "OPENSEARCH_ENDPOINT";
  if (value === "") {
    throw new LambdaConfigError(
      variable,
      "not set: expected the OpenSearch domain's https:// URL (the stack sets it from the domain)",
    );
  }
  const url = URL.canParse(value) ? new URL(value) : null;
  // http:// only makes sense for a local OpenSearch; the domain itself enforces HTTPS.
  if (url === null || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new LambdaConfigError(variable, `"${value}" is not an https:// (or local http://) URL`);
  }
  return value.replace(/\/+$/, "");
}

function indexPrefix(raw: string | undefined): string {
  const value = raw?.trim() || DEFAULT_INDEX_PREFIX;
  // OpenSearch index names are lower case and may not start with "-", "_" or "+".
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(value)) {
    throw new LambdaConfigError(
      "OPENSEARCH_INDEX_PREFIX",
      `"${value}" is no index name prefix: use lower-case letters, digits, "-" and "_", starting with a letter or digit`,
    );
  }
  return value;
}

function iotDataEndpoint(raw: string | undefined): string | null {
  const value = raw?.trim() ?? "";
  if (value === "") return null;
  // `aws iot describe-endpoint --endpoint-type iot:Data-ATS` prints a bare host name.
  const url = value.includes("://") ? value : `https://${value}`;
  if (!URL.canParse(url) || new URL(url).protocol !== "https:") {
    throw new LambdaConfigError(
      "IOT_DATA_ENDPOINT",
      `"${value}" is not a host name or https:// URL (aws iot describe-endpoint --endpoint-type iot:Data-ATS)`,
    );
  }
  return new URL(url).origin;
}

function corsOrigin(raw: string | undefined): string | null {
  const value = raw?.trim() ?? "";
  if (value === "") return null;
  // A browser compares the header with the page's origin exactly: a path or trailing slash never matches.
  if (!URL.canParse(value) || new URL(value).origin !== value) {
    throw new LambdaConfigError(
      "CORS_ALLOW_ORIGIN",
      `"${value}" is not an origin: expected scheme://host[:port] without a path, e.g. https://d111111abcdef8.cloudfront.net`,
    );
  }
  return value;
}

function maxBody(raw: string | undefined): number {
  const value = raw?.trim() ?? "";
  if (value === "") return DEFAULT_MAX_BODY;
  const bytes = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new LambdaConfigError(
      "MAX_BODY_BYTES",
      `"${value}" is not a positive whole number of bytes`,
    );
  }
  return bytes;
}
