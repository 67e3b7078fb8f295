import { describe, expect, it } from "vitest";
import { fleetEndpoint } from "../../daemon/config/fleet-endpoint.js";

describe("fleetEndpoint: where a Pi fetches its desired thresholds", () => {
  it("replaces a last segment ingest or proxyLambda with fleet/desired, keeping a stage prefix", () => {
    expect(fleetEndpoint("http://127.0.0.1:8787/ingest")).toBe(
      "http://127.0.0.1:8787/fleet/desired",
    );
    expect(fleetEndpoint("https://abc.execute-api.aws/prod/proxyLambda")).toBe(
      "https://abc.execute-api.aws/prod/fleet/desired",
    );
    expect(fleetEndpoint("https://h/prod/ingest/")).toBe("https://h/prod/fleet/desired");
  });

  it("drops the query: /fleet/desired refuses parameters it does not know", () => {
    expect(fleetEndpoint("https://h/ingest?stage=x#y")).toBe("https://h/fleet/desired");
  });

  it("is off for an endpoint with no such segment, or no URL", () => {
    expect(fleetEndpoint("https://h/upload")).toBeNull();
    expect(fleetEndpoint("https://h/")).toBeNull();
    expect(fleetEndpoint("https://h/myingest")).toBeNull();
    expect(fleetEndpoint("not a url")).toBeNull();
  });
});
