/**
 * The routing every HTTP server here shares: routes are data, matching is a
 * pure function of (method, path), and each server renders its own 404 and
 * 405 answers (their bodies are part of each server's wire contract).
 */

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

/**
 * One route. `path` is a pattern: literal segments match exactly (no
 * decoding, no case folding, no trailing-slash leniency) and a `:name`
 * segment matches any one non-empty segment, handed over decoded as
 * `params.name`. A server's route type adds its handler to these two fields.
 */
export interface RouteDeclaration {
  method: HttpMethod;
  path: string;
}

export type RouteMatch<Route extends RouteDeclaration> =
  | { kind: "found"; route: Route; params: Readonly<Record<string, string>> }
  | { kind: "not-found" }
  /** The path is known but not for this method; `allow` is the `Allow` header's value. */
  | { kind: "wrong-method"; allow: string };

export interface RouterOptions {
  /**
   * A HEAD request takes the GET route of its path (the server sends the
   * headers without the body), and `Allow` names HEAD after GET. Off: HEAD
   * needs a route of its own, like any other method.
   */
  headFromGet?: boolean;
}

/** A route table that cannot match as written (a programming mistake, caught at start). */
export class RoutePatternError extends TypeError {
  override readonly name = "RoutePatternError";
}

type Segment = { literal: string } | { param: string };

interface CompiledRoute<Route extends RouteDeclaration> {
  route: Route;
  segments: readonly Segment[];
}

export class Router<Route extends RouteDeclaration> {
  /** Each distinct path pattern once, in declaration order (for "try ..." hints in 404 answers). */
  readonly paths: readonly string[];
  /** The table as declared, for what must expose the same routes (an API Gateway in front). */
  readonly routes: readonly Route[];
  private readonly compiled: readonly CompiledRoute<Route>[];
  private readonly headFromGet: boolean;

  constructor(routes: readonly Route[], options: RouterOptions = {}) {
    this.routes = routes;
    this.compiled = routes.map((route) => ({ route, segments: compile(route.path) }));
    this.paths = [...new Set(routes.map((route) => route.path))];
    this.headFromGet = options.headFromGet ?? false;
  }

  /**
   * The first declared route whose pattern matches `path` and whose method
   * is `method`; else `wrong-method` when some pattern matches the path,
   * else `not-found`. `path` is a URL path without the query.
   */
  match(method: string, path: string): RouteMatch<Route> {
    const requested = path.split("/");
    const candidates: { route: Route; params: Record<string, string> }[] = [];
    for (const { route, segments } of this.compiled) {
      const params = matchSegments(segments, requested);
      if (params !== null) candidates.push({ route, params });
    }
    if (candidates.length === 0) return { kind: "not-found" };
    const found =
      candidates.find((candidate) => candidate.route.method === method) ??
      (this.headFromGet && method === "HEAD"
        ? candidates.find((candidate) => candidate.route.method === "GET")
        : undefined);
    if (found !== undefined) return { kind: "found", route: found.route, params: found.params };
    return {
      kind: "wrong-method",
      allow: this.allowed(candidates.map(({ route }) => route.method)),
    };
  }

  private allowed(methods: readonly HttpMethod[]): string {
    const allowed = [...new Set(methods)];
    const getAt = allowed.indexOf("GET");
    if (this.headFromGet && getAt !== -1 && !allowed.includes("HEAD")) {
      allowed.splice(getAt + 1, 0, "HEAD");
    }
    return allowed.join(", ");
  }
}

function compile(pattern: string): Segment[] {
  if (!pattern.startsWith("/")) {
    throw new RoutePatternError(`route path "${pattern}" must start with "/"`);
  }
  const names = new Set<string>();
  return pattern.split("/").map((segment) => {
    if (!segment.startsWith(":")) return { literal: segment };
    const name = segment.slice(1);
    if (name === "") throw new RoutePatternError(`route path "${pattern}" has a ":" with no name`);
    if (names.has(name)) {
      throw new RoutePatternError(`route path "${pattern}" names ":${name}" twice; rename one`);
    }
    names.add(name);
    return { param: name };
  });
}

/** The params when `requested` (a path split on "/") fits the pattern, else null. */
function matchSegments(
  segments: readonly Segment[],
  requested: readonly string[],
): Record<string, string> | null {
  if (segments.length !== requested.length) return null;
  const params: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    const text = requested[index] ?? "";
    if ("literal" in segment) {
      if (segment.literal !== text) return null;
      continue;
    }
    if (text === "") return null;
    const value = decodeSegment(text);
    if (value === null) return null;
    params[segment.param] = value;
  }
  return params;
}

/** A malformed escape (`%zz`) matches no param rather than throwing out of the router. */
function decodeSegment(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
