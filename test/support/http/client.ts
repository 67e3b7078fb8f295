import { request } from "node:http";

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request (no keep-alive agent); `to` is a TCP port or a Unix socket path. */
export function send(
  to: number | string,
  method: string,
  path: string,
  options: { host?: string; body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...(typeof to === "number" ? { host: "127.0.0.1", port: to } : { socketPath: to }),
        method,
        path,
        headers: {
          ...(options.host === undefined ? {} : { host: options.host }),
          ...options.headers,
        },
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    // A server that answers before reading the whole body may close while we still
    // write: the answer may arrive just after the write error.
    req.on("error", (error) => {
      setTimeout(() => reject(error), 1000);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
    req.end(options.body);
  });
}
