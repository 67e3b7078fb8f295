import { resolve } from "node:path";
import { gzipSync } from "node:zlib";

export interface PageWeight {
  files: number;
  bytes: number;
  /** Each file gzip'd at level 9, as the servers serve it. */
  gzipBytes: number;
}

/**
 * The page, its stylesheets and every script module it imports, as the browser
 * fetches them. Its own module so bench/test/page-weight.test.ts can hold the
 * figures in bench/README.md and README.md to what the servers serve now.
 */
export async function pageWeight(base: string): Promise<PageWeight> {
  const html = await (await fetch(`${base}/`)).text();
  const queue = [...html.matchAll(/(?:href|src)="(\/static\/[^"]+)"/g)].map(
    (match) => match[1] ?? "",
  );
  const seen = new Set<string>();
  let bytes = Buffer.byteLength(html);
  let gzipBytes = gzipSync(html).length;
  while (queue.length > 0) {
    const path = queue.shift() ?? "";
    if (seen.has(path)) continue;
    seen.add(path);
    const response = await fetch(`${base}${path}`, { headers: { "accept-encoding": "identity" } });
    const body = Buffer.from(await response.arrayBuffer());
    bytes += body.length;
    gzipBytes += gzipSync(body, { level: 9 }).length;
    if (path.endsWith(".js")) {
      for (const match of body.toString("utf8").matchAll(/from\s*"\.\/([^"]+\.js)"/g)) {
        queue.push(resolve("/static/js", match[1] ?? ""));
      }
    }
  }
  return { files: seen.size + 1, bytes, gzipBytes };
}

/** The bench/README.md cell, so the bench prints it and the test compares it the same way. */
export function formatPageWeight(page: PageWeight): string {
  const count = (value: number) => value.toLocaleString("en-US");
  return `${count(page.bytes)} bytes in ${page.files} files; ${count(page.gzipBytes)} gzip'd, as served`;
}
