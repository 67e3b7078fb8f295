import type { IncomingMessage, ServerResponse } from "node:http";
import type { RouteDeclaration } from "../../core/http/router.js";

export interface HttpExchange {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
}

/**
 * A route of the device's HTTP server (metrics, health, the dashboard). Every
 * one is GET: the server is read-only, and HEAD takes the GET route.
 */
export interface HttpRoute extends RouteDeclaration {
  /** Answers; false (nothing written) when there is nothing there after all, e.g. a file that is not on disk: the server's 404. */
  handle(exchange: HttpExchange): boolean;
}
