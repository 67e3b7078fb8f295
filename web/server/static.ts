import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { extname, isAbsolute, relative, resolve, sep } from "node:path";
import { gzipSync } from "node:zlib";

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/** Pages load only what they ship with: no CDN, no inline script. */
const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
};

interface Loaded {
  mtimeMs: number;
  size: number;
  etag: string;
  body: Buffer;
  gzipped: Buffer | null;
}

/** A URL path under a mount -> a file under its folder. */
export interface StaticMount {
  /** URL prefix ending in "/", e.g. "/static/". */
  prefix: string;
  /** Absolute folder. */
  dir: string;
}

/**
 * Serves files from fixed folders: GET/HEAD only, content type by extension
 * (unknown extensions are not served), an ETag with `cache-control: no-cache`
 * so a browser revalidates cheaply (a Pi's dashboard changes on upgrade, and
 * a stale script would outlive it), gzip for text when the client accepts it
 * (compressed once per file version), and no way out of a mount's folder.
 */
export class StaticFiles {
  /**
   * The URL paths it may answer, as core/http/router.ts patterns: each
   * file's path, then `<prefix>:file` for each folder (a folder's files sit
   * directly in it). A server routes these here instead of keeping its own list.
   */
  readonly paths: readonly string[];
  private readonly cache = new Map<string, Loaded>();
  private readonly files = new Map<string, string>();
  private readonly mounts: StaticMount[];

  constructor(mounts: StaticMount[], files: Record<string, string> = {}) {
    this.mounts = mounts.map((mount) => ({ prefix: mount.prefix, dir: resolve(mount.dir) }));
    for (const [urlPath, file] of Object.entries(files)) this.files.set(urlPath, resolve(file));
    this.paths = [...this.files.keys(), ...this.mounts.map((mount) => `${mount.prefix}:file`)];
  }

  /** The file a URL path maps to, or null (unknown path, traversal attempt, unknown type). */
  resolve(urlPath: string): string | null {
    const exact = this.files.get(urlPath);
    if (exact !== undefined) return exact;
    for (const mount of this.mounts) {
      if (!urlPath.startsWith(mount.prefix)) continue;
      const file = safeJoin(mount.dir, urlPath.slice(mount.prefix.length));
      if (file !== null && CONTENT_TYPES[extname(file)] !== undefined) return file;
    }
    return null;
  }

  /** Answers the request when the path is a served file; false (nothing written) otherwise. */
  serve(
    urlPath: string,
    method: string,
    headers: IncomingHttpHeaders,
    response: ServerResponse,
  ): boolean {
    const file = this.resolve(urlPath);
    if (file === null) return false;
    const loaded = this.load(file);
    if (loaded === null) return false;
    const common = {
      ...SECURITY_HEADERS,
      "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-cache",
      etag: loaded.etag,
      vary: "accept-encoding",
    };
    if (headers["if-none-match"] === loaded.etag) {
      response.writeHead(304, common);
      response.end();
      return true;
    }
    const gzip = loaded.gzipped !== null && acceptsGzip(headers["accept-encoding"]);
    const body = gzip && loaded.gzipped !== null ? loaded.gzipped : loaded.body;
    response.writeHead(200, {
      ...common,
      "content-length": body.length,
      ...(gzip ? { "content-encoding": "gzip" } : {}),
    });
    response.end(method === "HEAD" ? undefined : body);
    return true;
  }

  private load(file: string): Loaded | null {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(file);
    } catch {
      return null;
    }
    if (!stat.isFile()) return null;
    const cached = this.cache.get(file);
    if (cached !== undefined && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) {
      return cached;
    }
    const body = readFileSync(file);
    const type = CONTENT_TYPES[extname(file)] ?? "";
    const compressible = /^text\/|json|svg/.test(type) && body.length > 512;
    const loaded: Loaded = {
      mtimeMs: stat.mtimeMs,
      size: stat.size,
      etag: `"${createHash("sha1").update(body).digest("base64url").slice(0, 20)}"`,
      body,
      gzipped: compressible ? gzipSync(body, { level: 9 }) : null,
    };
    this.cache.set(file, loaded);
    return loaded;
  }
}

/**
 * `relativePath` (URL-decoded here) inside `dir`, or null when it would leave
 * it: "..", absolute paths, backslashes, NUL, encoded slashes, dot files.
 */
export function safeJoin(dir: string, relativePath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relativePath);
  } catch {
    return null;
  }
  if (decoded === "" || /[\\\0]/.test(decoded) || isAbsolute(decoded)) return null;
  const parts = decoded.split("/");
  if (parts.some((part) => part === "" || part.startsWith("."))) return null;
  const file = resolve(dir, ...parts);
  const inside = relative(dir, file);
  if (inside === "" || inside.startsWith(`..${sep}`) || inside === ".." || isAbsolute(inside)) {
    return null;
  }
  return file;
}

function acceptsGzip(header: string | undefined): boolean {
  return header !== undefined && /\bgzip\b(?!;q=0(\.0*)?\b)/.test(header);
}
