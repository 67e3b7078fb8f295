import type { SyncConfig } from "../../schemas/config-types.js";

/**
 * Where alert events go, or null when they are not uploaded: `written` (the
 * `alerts_endpoint` key as written, "" = off) wins; without it, the batch
 * format's endpoint with "/alerts" appended (sensord-ingest's POST
 * /ingest/alerts next to POST /ingest); the original format's API Gateway
 * has no such route, so off.
 */
export function alertsEndpoint(
  sync: Pick<SyncConfig, "endpoint" | "format">,
  written: string | undefined,
): string | null {
  if (written !== undefined) return written === "" ? null : written;
  if (sync.format === "original") return null;
  return appendPath(sync.endpoint, "alerts");
}

/** `http://h/ingest?k=v` + "alerts" -> `http://h/ingest/alerts?k=v`; null for a URL that does not parse. */
export function appendPath(endpoint: string, segment: string): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return null;
  }
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${segment}`;
  return url.toString();
}
