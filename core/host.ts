import { isIP } from "node:net";

/**
 * The `Host` rule against DNS rebinding, shared by sensord's dashboard and
 * sensord-ingest: attacker.example re-resolves to 127.0.0.1 and a web page's
 * requests arrive with `Host: attacker.example`, so a server that trusts
 * loopback serves only requests naming it by a loopback name, its listen
 * address, or a name the operator allowed. Returns the check of a `Host`
 * header (true: serve it). Pure.
 */
export function hostAllowed(
  listenHost: string | null,
  allowed: readonly string[] = [],
): (header: string | undefined) => boolean {
  const names = new Set(["localhost", ...allowed.map((name) => name.toLowerCase())]);
  if (listenHost !== null && listenHost !== "0.0.0.0" && listenHost !== "::") {
    names.add(listenHost.toLowerCase());
  }
  return (header) => {
    const host = hostName(header ?? "");
    return host !== null && (names.has(host) || isLoopbackName(host));
  };
}

/** "Example.org:8787" -> "example.org", "[::1]:80" -> "::1"; null when malformed. */
export function hostName(header: string): string | null {
  const text = header.trim().toLowerCase();
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    return end > 0 ? text.slice(1, end) : null;
  }
  const colon = text.indexOf(":");
  const name = colon === -1 ? text : text.slice(0, colon);
  return name === "" ? null : name;
}

/** Names only this machine resolves to itself: localhost (and *.localhost), 127/8, ::1. */
export function isLoopbackName(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}
