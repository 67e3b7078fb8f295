import { appendFileSync } from "node:fs";

let file;

export function initialize(data) {
  file = data.file;
}

/** "@scope/name" or "name" from a URL under node_modules/. */
function packageName(url) {
  const after = url.split("/node_modules/").at(-1);
  if (after === undefined || after === url) return null;
  const parts = after.split("/");
  return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? null);
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const name = packageName(resolved.url);
  if (name !== null && file !== undefined) appendFileSync(file, `${name}\n`);
  return resolved;
}
