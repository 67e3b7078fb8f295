// Fetching from the server the page came from; sends the API key when the server asked for one.

const KEY_STORAGE = "sensord-api-key";

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

function headers(): HeadersInit {
  const key = apiKey();
  return key === null ? {} : { "x-api-key": key };
}

export async function getJson<T>(path: string, params: URLSearchParams): Promise<T> {
  const query = params.toString();
  const sentKey = apiKey() !== null;
  const response = await fetch(query === "" ? path : `${path}?${query}`, { headers: headers() });
  const body: unknown = await response.json().catch(() => null);
  const message =
    typeof body === "object" && body !== null && "error" in body ? String(body.error) : "";
  if (response.status === 401) {
    // sensord says when the token (an HttpOnly cookie the page cannot see) was wrong.
    const wrongToken =
      typeof body === "object" && body !== null && "wrongToken" in body && body.wrongToken === true;
    throw new NeedsKeyError(message, sentKey || wrongToken);
  }
  if (!response.ok) throw new Error(`${path}: ${response.status} ${message}`);
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
