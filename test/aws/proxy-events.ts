import type { APIGatewayProxyEvent } from "aws-lambda";

export interface EventRequest {
  method: string;
  /** Path and query as the client sent them, e.g. "/readings?gas=co&gas=no2". */
  target: string;
  /** As the client wrote them (API Gateway keeps the client's case). */
  headers?: Record<string, string | string[]>;
  body?: Buffer;
  /**
   * The resource the API declares for the route; default: the path itself
   * (one resource per route, as the stack declares them). "/{proxy+}" fills
   * pathParameters.proxy.
   */
  resource?: string;
  stage?: string;
  /**
   * API Gateway base64-encodes a body whose content-type is one of the API's
   * binary media types (the stack lists application/json, so gzip arrives
   * intact); default true.
   */
  binary?: boolean;
}

const API_ID = "a1b2c3d4e5";

/**
 * A REST API (v1) Lambda proxy event shaped like AWS's documented example
 * ("Input format of a Lambda function for proxy integration"): both header
 * maps, both query maps, the stage in requestContext.path but not in path.
 */
export function proxyEvent(request: EventRequest): APIGatewayProxyEvent {
  const stage = request.stage ?? "prod";
  const url = new URL(request.target, "https://example.invalid");
  const path = url.pathname;
  const resource = request.resource ?? path;
  const multiValueHeaders: Record<string, string[]> = {
    Accept: ["*/*"],
    Host: [`${API_ID}.execute-api.eu-west-1.amazonaws.com`],
    "User-Agent": ["sensord/0.1.0"],
    "X-Amzn-Trace-Id": ["Root=1-5e66d96f-7491f09xmpl79d18acf3d050"],
    "X-Forwarded-For": ["203.0.113.7"],
    "X-Forwarded-Port": ["443"],
    "X-Forwarded-Proto": ["https"],
  };
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    multiValueHeaders[name] = Array.isArray(value) ? value : [value];
  }
  const headers = Object.fromEntries(
    Object.entries(multiValueHeaders).map(([name, values]) => [name, values.at(-1)]),
  );
  const multiValueQuery: Record<string, string[]> = {};
  for (const name of new Set(url.searchParams.keys())) {
    multiValueQuery[name] = url.searchParams.getAll(name);
  }
  const hasQuery = Object.keys(multiValueQuery).length > 0;
  const binary = request.binary ?? true;
  const body = request.body;
  return {
    resource,
    path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery
      ? Object.fromEntries(
          Object.entries(multiValueQuery).map(([name, values]) => [name, values.at(-1)]),
        )
      : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQuery : null,
    pathParameters: resource === "/{proxy+}" ? { proxy: path.slice(1) } : null,
    stageVariables: null,
    requestContext: {
      accountId: "123456789012",
      apiId: API_ID,
      authorizer: null,
      domainName: `${API_ID}.execute-api.eu-west-1.amazonaws.com`,
      domainPrefix: API_ID,
      extendedRequestId: "BQGojGkyoAMFQ0Q=",
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: "key-checked-by-api-gateway",
        apiKeyId: "kx1y2z3",
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: "203.0.113.7",
        user: null,
        userAgent: "sensord/0.1.0",
        userArn: null,
      },
      path: `/${stage}${path}`,
      protocol: "HTTP/1.1",
      requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
      requestTime: "04/Dec/2026:19:15:17 +0000",
      requestTimeEpoch: 1_796_411_717_135,
      resourceId: "2gxmpl",
      resourcePath: resource,
      stage,
    },
    body:
      body === undefined || body.length === 0 ? null : body.toString(binary ? "base64" : "utf8"),
    isBase64Encoded: body !== undefined && body.length > 0 && binary,
  };
}
