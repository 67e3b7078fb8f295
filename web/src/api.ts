// Fetching from the API (the server the page came from, or config.json's apiBase); sends the API key when the server asked for one.

const KEY_STORAGE = "sensord-api-key";

/** config.json exists but cannot be used: the page says so instead of querying the wrong place. */
export class ApiConfigError extends Error {}

/** "" = the server the page came from; else an absolute URL ending in "/" that API paths resolve under. */
let apiBase: Promise<string> = Promise.resolve("");

/**
 * Takes the API's location from config.json beside the page
 * (`{"apiBase": "https://.../v1/"}`), written when the page is hosted apart
 * from the API (CloudFront + API Gateway). Absent (404) or `""`: the page's own server.
 */
export function useConfigFile(): void {
  apiBase = readConfigFile(new URL("config.json", document.baseURI));
}

async function readConfigFile(url: URL): Promise<string> {
  const response = await fetch(url, { cache: "no-cache" });
  if (response.status === 404) return "";
  if (!response.ok) throw new ApiConfigError(`${url}: ${response.status} ${response.statusText}`);
  const config: unknown = await response.json().catch(() => null);
  const base =
    typeof config === "object" && config !== null && "apiBase" in config
      ? config.apiBase
      : undefined;
  if (base === "") return "";
  if (
    typeof base !== "string" ||
    !URL.canParse(base) ||
    !/^https?:$/.test(new URL(base).protocol)
  ) {
    throw new ApiConfigError(
      `${url}: "apiBase" must be the API's http(s) URL or "" (this server), got ${JSON.stringify(base)}`,
    );
  }
  return base.endsWith("/") ? base : `${base}/`;
}

/** `path` ("/readings") on the API: under apiBase when set, so a stage prefix (/v1/) is kept. */
async function apiUrl(path: string, params: URLSearchParams): Promise<string> {
  const query = params.toString();
  const base = await apiBase;
  const target = base === "" ? path : new URL(path.replace(/^\//, ""), base).href;
  return query === "" ? target : `${target}?${query}`;
}

/**
 * 401: the server wants a key or token. `sent` tells a wrong one (the page
 * sent a key, or the server says the token it got is wrong) from none yet.
 */
export class NeedsKeyError extends Error {
  constructor(
    message: string,
    readonly sent: boolean,
  ) {
    super(message);
  }
}

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function setApiKey(key: string): void {
  sessionStorage.setItem(KEY_STORAGE, key);
}

/** Forgets a key the server refused: a reload asks again instead of failing the same way. */
export function clearApiKey(): void {
  sessionStorage.removeItem(KEY_STORAGE);
}

function headers(): Record<string, string> {
  const key = apiKey();
  return key === null ? {} : { "x-api-key": key };
}

/** The API refused a request: its status and the JSON error body (null when there was none). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export function getJson<T>(path: string, params: URLSearchParams): Promise<T> {
  return request<T>("GET", path, params);
}

/** A JSON request with a body (`PUT`), with extra headers such as `If-Match`. */
export function sendJson<T>(
  method: "PUT",
  path: string,
  params: URLSearchParams,
  body: unknown,
  extra: Record<string, string>,
): Promise<T> {
  return request<T>(method, path, params, {
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", ...extra },
  });
}

async function request<T>(
  method: string,
  path: string,
  params: URLSearchParams,
  send: { body: string; headers: Record<string, string> } | null = null,
): Promise<T> {
  const url = await apiUrl(path, params);
  const sentKey = apiKey() !== null;
  const response = await fetch(url, {
    method,
    headers: { ...headers(), ...send?.headers },
    ...(send === null ? {} : { body: send.body }),
  });
  const body: unknown = await response.json().catch(() => null);
  const message =
    typeof body === "object" && body !== null && "error" in body ? String(body.error) : "";
  if (response.status === 401) {
    // sensord says when the token (an HttpOnly cookie the page cannot see) was wrong.
    const wrongToken =
      typeof body === "object" && body !== null && "wrongToken" in body && body.wrongToken === true;
    throw new NeedsKeyError(message, sentKey || wrongToken);
  }
  if (!response.ok)
    throw new ApiError(`${path}: ${response.status} ${message}`, response.status, body);
  return body as T;
}

/**
 * Saves a server file: a plain link when no key is needed (the browser
 * streams it to disk), else fetched with the key header and saved from memory.
 */
export async function download(path: string, params: URLSearchParams, name: string): Promise<void> {
  const url = await apiUrl(path, params);
  const link = document.createElement("a");
  link.download = name;
  if (apiKey() === null) {
    link.href = url;
  } else {
    const response = await fetch(url, { headers: headers() });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    link.href = URL.createObjectURL(await response.blob());
  }
  document.body.append(link);
  link.click();
  link.remove();
}
