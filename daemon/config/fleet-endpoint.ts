/**
 * Where a Pi fetches its desired fleet thresholds, or null when it cannot
 * know: sensord-ingest serves `GET /fleet/desired` at the same base as its
 * `POST /ingest` and `POST /proxyLambda`, so the endpoint's last path segment
 * is replaced, keeping a stage prefix such as `/prod/`. The query is dropped:
 * the route refuses parameters it does not know. Any other endpoint (the
 * original API Gateway, another receiver) has no such route.
 */
export function fleetEndpoint(endpoint: string): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return null;
  }
  const match = /^(.*\/)(?:ingest|proxyLambda)\/*$/.exec(url.pathname);
  if (match === null) return null;
  url.pathname = `${match[1]}fleet/desired`;
  url.search = "";
  url.hash = "";
  return url.toString();
}
