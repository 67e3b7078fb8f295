// Fetching from the server the page came from; sends the API key when the server asked for one.

const KEY_STORAGE = "sensord-api-key";

export class NeedsKeyError extends Error {
  constructor() {
    super("this server needs an API key");
  }
}

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function setApiKey(key: string): void {
  sessionStorage.setItem(KEY_STORAGE, key);
}

function headers(): HeadersInit {
  const key = apiKey();
  return key === null ? {} : { "x-api-key": key };
}

export async function getJson<T>(path: string, params: URLSearchParams): Promise<T> {
  const query = params.toString();
  const response = await fetch(query === "" ? path : `${path}?${query}`, { headers: headers() });
  if (response.status === 401) throw new NeedsKeyError();
  const body: unknown = await response.json();
  if (!response.ok) {
    const message =
      typeof body === "object" && body !== null && "error" in body ? String(body.error) : "";
    throw new Error(`${path}: ${response.status} ${message}`);
  }
  return body as T;
}

/**
 * Saves a server file: a plain link when no key is needed (the browser
 * streams it to disk), else fetched with the key header and saved from memory.
 */
export async function download(path: string, params: URLSearchParams, name: string): Promise<void> {
  const url = `${path}?${params.toString()}`;
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
