import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Cluster, REFRESH_INTERVAL_MS } from "./cluster.js";
import { badRequest, indexNotFound, OpenSearchError } from "./errors.js";
import { matching, search } from "./search.js";
import { type SigningKeys, verifySigV4 } from "./sigv4.js";
import { asObject, globMatch, isObject, type JsonObject } from "./values.js";

/**
 * A loopback HTTP server answering as an Amazon OpenSearch Service domain
 * (OpenSearch 2.x) does, for the API the OpenSearch store uses, with real
 * storage and query evaluation so the store's answers can be compared
 * with the SQL stores'. Every request must carry a valid SigV4 signature
 * (service `es`) made with the test keys; a wrong one is the 403 AWS
 * gives. Faults can be injected: throttled or malformed bulk items, whole
 * requests failing, an access policy refusing the caller.
 */

export const TEST_REGION = "ap-northeast-2";
export const TEST_CREDENTIALS = {
  accessKeyId: "AKIDSTANDINTEST00001",
  secretAccessKey: "standin/secret/key/for+tests/only0000001",
} as const;

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** `_bulk` bodies: one parsed object per line. */
  lines?: unknown[];
  body?: unknown;
}

type ItemFault = 429 | 400;
type RequestFault = 429 | 500 | 503;

export class OpenSearchStandIn {
  readonly cluster = new Cluster();
  readonly requests: LoggedRequest[] = [];
  private server: Server | null = null;
  private readonly itemFaults: ItemFault[] = [];
  private readonly requestFaults: Array<{ status: RequestFault; path: RegExp }> = [];
  private deniedPrincipal: string | null = null;
  private readonly keys: SigningKeys = {
    region: TEST_REGION,
    service: "es",
    secrets: new Map([[TEST_CREDENTIALS.accessKeyId, TEST_CREDENTIALS.secretAccessKey]]),
  };
  url = "";

  async start(): Promise<string> {
    const server = createServer((request, response) => {
      this.serve(request, response).catch((error: unknown) => {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(
          JSON.stringify({ error: { type: "exception", reason: String(error) }, status: 500 }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next `count` bulk items (across requests) answer `status` instead of being stored. */
  failNextItems(count: number, status: ItemFault): void {
    for (let i = 0; i < count; i++) this.itemFaults.push(status);
  }

  /** The next `count` requests whose path matches answer `status` whole. */
  failNextRequests(count: number, status: RequestFault, path = /./): void {
    for (let i = 0; i < count; i++) this.requestFaults.push({ status, path });
  }

  /** Drops the faults not consumed yet. */
  clearFaults(): void {
    this.itemFaults.length = 0;
    this.requestFaults.length = 0;
  }

  /** Every request is refused as the domain's access policy refuses a role it does not name (null: allowed again). */
  denyAccess(principal: string | null): void {
    this.deniedPrincipal = principal;
  }

  /** The `_source` of every stored document of indices matching `pattern`, by index then insertion. */
  documents(pattern: string): Array<{ index: string; id: string; source: JsonObject }> {
    return [...this.cluster.indices.values()]
      .filter((index) => globMatch(pattern, index.name))
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .flatMap((index) =>
        [...index.docs.values()].map((doc) => ({
          index: index.name,
          id: doc.id,
          source: doc.source,
        })),
      );
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const rawUrl = request.url ?? "/";
    const method = request.method ?? "GET";
    const send = (status: number, payload: unknown): void => {
      const text = typeof payload === "string" ? payload : JSON.stringify(payload);
      response.writeHead(status, {
        "content-type":
          typeof payload === "string"
            ? "text/plain; charset=UTF-8"
            : "application/json; charset=UTF-8",
      });
      response.end(method === "HEAD" ? undefined : text);
    };
    const refusal = verifySigV4(method, rawUrl, request.headers, body, this.keys, Date.now());
    if (refusal !== null) return send(refusal.status, refusal.body);
    const url = new URL(rawUrl, "http://standin");
    const query = Object.fromEntries(url.searchParams.entries());
    const segments = url.pathname
      .split("/")
      .filter((part) => part !== "")
      .map(decodeURIComponent);
    const text = body.toString("utf8");
    const logged: LoggedRequest = { method, path: url.pathname, query };
    try {
      if (segments[segments.length - 1] === "_bulk")
        logged.lines = text
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => JSON.parse(line) as unknown);
      else if (text !== "") logged.body = JSON.parse(text) as unknown;
    } catch {
      this.requests.push(logged);
      return send(400, badRequest("Failed to parse content to map", "parse_exception").body());
    }
    this.requests.push(logged);
    if (this.deniedPrincipal !== null) {
      // The access policy's refusal, as the domain words it (capital-M "Message").
      return send(403, {
        Message: `User: ${this.deniedPrincipal} is not authorized to perform: es:ESHttp${method[0]}${method.slice(1).toLowerCase()} because no resource-based policy allows the es:ESHttp${method[0]}${method.slice(1).toLowerCase()} action`,
      });
    }
    const faultAt = this.requestFaults.findIndex((fault) => fault.path.test(url.pathname));
    if (faultAt !== -1) {
      const [fault] = this.requestFaults.splice(faultAt, 1);
      return send(fault?.status ?? 500, requestFaultBody(fault?.status ?? 500));
    }
    try {
      const [status, payload] = this.route(method, segments, query, logged);
      send(status, payload);
    } catch (error) {
      if (error instanceof OpenSearchError) return send(error.status, error.body());
      throw error;
    }
  }

  private route(
    method: string,
    segments: string[],
    query: Record<string, string>,
    logged: LoggedRequest,
  ): [number, unknown] {
    const [first = "", second, third] = segments;
    const now = Date.now();
    const visibleAt = refreshes(query) ? now : now + REFRESH_INTERVAL_MS;
    if (segments.length === 0 && method === "GET") {
      return [
        200,
        {
          name: "standin",
          cluster_name: "123456789012:sensord",
          version: { distribution: "opensearch", number: "2.17.0" },
          tagline: "The OpenSearch Project: https://opensearch.org/",
        },
      ];
    }
    if (first === "_bulk" && (method === "POST" || method === "PUT"))
      return [200, this.bulk(logged.lines ?? [], visibleAt)];
    if (first === "_index_template" && second !== undefined && method === "PUT") {
      this.cluster.putTemplate(second, logged.body);
      return [200, { acknowledged: true }];
    }
    if (first === "_refresh") {
      this.cluster.refresh();
      return [200, { _shards: { total: 1, successful: 1, failed: 0 } }];
    }
    if (first === "_cat" && second === "indices" && method === "GET")
      return [200, this.catIndices(third ?? "*", query)];
    if (first.startsWith("_"))
      throw badRequest(`no handler found for uri [/${segments.join("/")}] and method [${method}]`);
    switch (second) {
      case undefined:
        return this.indexLevel(method, first, logged.body);
      case "_search":
        return [200, search(this.cluster.resolve(first), logged.body, now)];
      case "_count": {
        const indices = this.cluster.resolve(first);
        const count = matching(indices, asObject(logged.body).query, now).length;
        return [
          200,
          {
            count,
            _shards: { total: indices.length, successful: indices.length, skipped: 0, failed: 0 },
          },
        ];
      }
      case "_delete_by_query":
        return [200, this.deleteByQuery(first, logged.body, now)];
      case "_refresh":
        this.cluster.refresh();
        return [200, { _shards: { total: 1, successful: 1, failed: 0 } }];
      case "_doc":
        if (third !== undefined && method === "GET") return this.getDoc(first, third);
        if (third !== undefined && (method === "PUT" || method === "POST"))
          return this.indexDoc(first, third, logged.body, visibleAt);
        break;
      case "_mget":
        if (method === "GET" || method === "POST") return this.multiGet(first, logged.body);
        break;
      case "_create":
        if (third !== undefined && (method === "PUT" || method === "POST"))
          return this.createDoc(first, third, logged.body, visibleAt);
        break;
    }
    throw badRequest(`no handler found for uri [/${segments.join("/")}] and method [${method}]`);
  }

  /** docs.opensearch.org/latest/api-reference/document-apis/bulk/ (`create` actions only). */
  private bulk(lines: unknown[], visibleAt: number): JsonObject {
    const started = Date.now();
    const items: JsonObject[] = [];
    for (let at = 0; at < lines.length; at += 2) {
      const action = asObject(lines[at]);
      const meta = asObject(action.create);
      if (!isObject(action.create))
        throw badRequest(
          `Malformed action/metadata line [${at + 1}], expected create (the stand-in knows no other action)`,
        );
      const index = String(meta._index);
      const id = String(meta._id);
      const fault = this.itemFaults.shift();
      if (fault === 429) {
        items.push({
          create: {
            _index: index,
            _id: id,
            status: 429,
            error: {
              type: "es_rejected_execution_exception",
              reason: `rejected execution of coordinating operation [shard_detailed_indexing_pressure] for [${index}][0]`,
            },
          },
        });
        continue;
      }
      if (fault === 400) {
        items.push({
          create: {
            _index: index,
            _id: id,
            status: 400,
            error: {
              type: "mapper_parsing_exception",
              reason: `failed to parse field [value] of type [double] in document with id '${id}'. Preview of field's value: 'NaN'`,
            },
          },
        });
        continue;
      }
      const outcome = this.cluster.create(index, id, lines[at + 1], visibleAt);
      if (outcome.status === 201 && "doc" in outcome) {
        items.push({
          create: {
            _index: index,
            _id: id,
            _version: 1,
            result: "created",
            _shards: { total: 2, successful: 2, failed: 0 },
            _seq_no: outcome.doc.seqNo,
            _primary_term: 1,
            status: 201,
          },
        });
      } else if ("error" in outcome) {
        items.push({
          create: { _index: index, _id: id, status: outcome.status, error: outcome.error },
        });
      }
    }
    return {
      took: Date.now() - started,
      errors: items.some((item) => asObject(item.create).status !== 201),
      items,
    };
  }

  private indexLevel(method: string, name: string, body: unknown): [number, unknown] {
    if (method === "PUT") {
      this.cluster.createIndex(name, body);
      return [200, { acknowledged: true, shards_acknowledged: true, index: name }];
    }
    if (method === "DELETE") {
      this.cluster.deleteIndices(name);
      return [200, { acknowledged: true }];
    }
    if (method === "GET" || method === "HEAD") {
      const indices = this.cluster.resolve(name);
      return [
        200,
        Object.fromEntries(
          indices.map((index) => [
            index.name,
            { aliases: {}, mappings: index.mappings, settings: { index: { uuid: index.uuid } } },
          ]),
        ),
      ];
    }
    throw badRequest(`no handler found for uri [/${name}] and method [${method}]`);
  }

  /** docs.opensearch.org/latest/api-reference/document-apis/get-documents/ */
  private getDoc(indexName: string, id: string): [number, unknown] {
    const index = this.cluster.indices.get(indexName);
    if (index === undefined) throw indexNotFound(indexName);
    const doc = index.docs.get(id);
    if (doc === undefined) return [404, { _index: indexName, _id: id, found: false }];
    return [
      200,
      {
        _index: indexName,
        _id: id,
        _version: 1,
        _seq_no: doc.seqNo,
        _primary_term: 1,
        found: true,
        _source: doc.source,
      },
    ];
  }

  /** docs.opensearch.org/latest/api-reference/document-apis/multi-get/ (`ids` of one index). */
  private multiGet(indexName: string, body: unknown): [number, unknown] {
    const ids = asObject(body).ids;
    if (!Array.isArray(ids))
      throw badRequest("action_request_validation_exception: no documents to get");
    return [200, { docs: ids.map((id) => this.getDoc(indexName, String(id))[1]) }];
  }

  /** docs.opensearch.org/latest/api-reference/document-apis/index-document/ (`_doc`: create or replace). */
  private indexDoc(
    indexName: string,
    id: string,
    body: unknown,
    visibleAt: number,
  ): [number, unknown] {
    const outcome = this.cluster.replace(indexName, id, body, visibleAt);
    if ("error" in outcome) throw new OpenSearchError(outcome.status, outcome.error);
    return [
      outcome.replaced ? 200 : 201,
      {
        _index: indexName,
        _id: id,
        result: outcome.replaced ? "updated" : "created",
        _shards: { total: 2, successful: 2, failed: 0 },
        _seq_no: outcome.doc.seqNo,
        _primary_term: 1,
      },
    ];
  }

  /** docs.opensearch.org/latest/api-reference/document-apis/index-document/ (`_create`). */
  private createDoc(
    indexName: string,
    id: string,
    body: unknown,
    visibleAt: number,
  ): [number, unknown] {
    const outcome = this.cluster.create(indexName, id, body, visibleAt);
    if ("error" in outcome) throw new OpenSearchError(outcome.status, outcome.error);
    return [
      201,
      {
        _index: indexName,
        _id: id,
        _version: 1,
        result: "created",
        _shards: { total: 2, successful: 2, failed: 0 },
        _seq_no: outcome.doc.seqNo,
        _primary_term: 1,
      },
    ];
  }

  /** docs.opensearch.org/latest/api-reference/document-apis/delete-by-query/ */
  private deleteByQuery(expression: string, body: unknown, now: number): JsonObject {
    const started = Date.now();
    const hits = matching(this.cluster.resolve(expression), asObject(body).query, now);
    for (const hit of hits) hit.index.docs.delete(hit.doc.id);
    return {
      took: Date.now() - started,
      timed_out: false,
      total: hits.length,
      deleted: hits.length,
      batches: hits.length === 0 ? 0 : Math.ceil(hits.length / 1000),
      version_conflicts: 0,
      noops: 0,
      retries: { bulk: 0, search: 0 },
      throttled_millis: 0,
      requests_per_second: -1,
      throttled_until_millis: 0,
      failures: [],
    };
  }

  /** docs.opensearch.org/latest/api-reference/cat/cat-indices/ (`format=json`, `h=` columns). */
  private catIndices(pattern: string, query: Record<string, string>): unknown {
    const rows = this.cluster.resolve(pattern).map((index) => ({
      health: "green",
      status: "open",
      index: index.name,
      uuid: index.uuid,
      pri: "1",
      rep: "1",
      "docs.count": String(index.docs.size),
      "docs.deleted": "0",
    }));
    const columns = query.h?.split(",") ?? Object.keys(rows[0] ?? { index: "" });
    const picked = rows.map((row) =>
      Object.fromEntries(columns.map((column) => [column, row[column as keyof typeof row]])),
    );
    if (query.format === "json") return picked;
    return (
      picked.map((row) => Object.values(row).join(" ")).join("\n") + (picked.length > 0 ? "\n" : "")
    );
  }
}

function refreshes(query: Record<string, string>): boolean {
  return query.refresh === "true" || query.refresh === "" || query.refresh === "wait_for";
}

function requestFaultBody(status: number): JsonObject {
  if (status === 429) {
    return new OpenSearchError(429, {
      type: "rejected_execution_exception",
      reason: "rejected execution of coordinating operation",
    }).body();
  }
  if (status === 503) {
    return new OpenSearchError(503, {
      type: "cluster_block_exception",
      reason: "blocked by: [SERVICE_UNAVAILABLE/2/no cluster-manager];",
    }).body();
  }
  return new OpenSearchError(500, { type: "exception", reason: "injected failure" }).body();
}

/** A stand-in started on a free loopback port. */
export async function startOpenSearchStandIn(): Promise<OpenSearchStandIn> {
  const standIn = new OpenSearchStandIn();
  await standIn.start();
  return standIn;
}
