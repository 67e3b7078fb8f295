import { describe, expect, it } from "vitest";
import { type RouteDeclaration, RoutePatternError, Router } from "../../core/http/router.js";

interface NamedRoute extends RouteDeclaration {
  name: string;
}

const routes: NamedRoute[] = [
  { method: "GET", path: "/v1/thresholds", name: "list" },
  { method: "PUT", path: "/v1/thresholds", name: "set" },
  { method: "GET", path: "/v1/sensors/:id", name: "sensor" },
  { method: "GET", path: "/", name: "root" },
];

describe("Router", () => {
  const router = new Router(routes);

  it("finds the route for a path and method, with its :params decoded", () => {
    expect(router.match("PUT", "/v1/thresholds")).toMatchObject({ kind: "found", params: {} });
    const sensor = router.match("GET", "/v1/sensors/gas%200");
    expect(sensor).toEqual({ kind: "found", route: routes[2], params: { id: "gas 0" } });
    expect(router.match("GET", "/")).toMatchObject({ kind: "found", route: { name: "root" } });
  });

  it("answers not-found for unknown paths, trailing slashes, empty or undecodable params", () => {
    for (const path of [
      "/nope",
      "/v1/thresholds/",
      "/v1//thresholds",
      "/v1/sensors/",
      "/v1/sensors/%zz",
      "/V1/thresholds",
    ]) {
      expect(router.match("GET", path), path).toEqual({ kind: "not-found" });
    }
  });

  it("answers wrong-method with the Allow value in declaration order; HEAD is a method of its own by default", () => {
    expect(router.match("PATCH", "/v1/thresholds")).toEqual({
      kind: "wrong-method",
      allow: "GET, PUT",
    });
    expect(router.match("HEAD", "/v1/sensors/a")).toEqual({ kind: "wrong-method", allow: "GET" });
  });

  it("with headFromGet, HEAD takes the GET route and Allow names HEAD after GET", () => {
    const lenient = new Router(routes, { headFromGet: true });
    expect(lenient.match("HEAD", "/v1/thresholds")).toMatchObject({
      kind: "found",
      route: { name: "list" },
    });
    expect(lenient.match("DELETE", "/v1/thresholds")).toEqual({
      kind: "wrong-method",
      allow: "GET, HEAD, PUT",
    });
  });

  it("lists each path once, in declaration order", () => {
    expect(router.paths).toEqual(["/v1/thresholds", "/v1/sensors/:id", "/"]);
  });

  it("refuses a pattern that cannot match as written", () => {
    expect(() => new Router([{ method: "GET", path: "v1" }])).toThrow(RoutePatternError);
    expect(() => new Router([{ method: "GET", path: "/a/:" }])).toThrow(/no name/);
    expect(() => new Router([{ method: "GET", path: "/:id/:id" }])).toThrow(/twice/);
  });
});
