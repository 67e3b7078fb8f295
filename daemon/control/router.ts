import type { RouteDeclaration } from "../../core/http/router.js";

/** The control API's building blocks: routes are plain data, handlers pure functions of the request. */

export interface ControlRequest {
  /** Parsed JSON body, or undefined when there was none. */
  body: unknown;
  query: URLSearchParams;
  /** The `:name` segments of the route's path. */
  params: Readonly<Record<string, string>>;
}

export interface ControlReply {
  status: number;
  body: unknown;
}

export interface ControlRoute extends RouteDeclaration {
  method: "GET" | "POST" | "PUT" | "DELETE";
  handle: (request: ControlRequest) => ControlReply | Promise<ControlReply>;
}

/** An error reply; `problems` name the bad fields the way the CLI names its arguments. */
export function problemReply(
  status: number,
  error: string,
  problems: { field: string; message: string }[] = [],
): ControlReply {
  return { status, body: { error, problems } };
}

export function ok(body: unknown): ControlReply {
  return { status: 200, body };
}
