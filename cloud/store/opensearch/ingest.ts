import type { IngestAnswer, IngestOutcome, IngestStats, IngestUnit } from "../types.js";
import { bulkCreate, type RetryBudget } from "./bulk.js";
import { readingDocument } from "./documents.js";
import type { SignedHttp } from "./http.js";
import type { IndexNames } from "./indices.js";

/** An idempotency record's `_source` (see REQUEST_MAPPINGS). */
interface RequestRecord {
  status: number;
  body: string;
  batchId: string;
  format: string;
  receivedAt: number;
}

/** A `_doc` GET answer (docs.opensearch.org/latest/api-reference/document-apis/get-documents/). */
interface GetAnswer {
  found?: boolean;
  _source?: RequestRecord;
}

/** Writes readings and idempotency records; counts what this process stored. */
export class OpenSearchIngest {
  private readonly counts = { readings: 0, duplicates: 0, batches: 0 };

  constructor(
    private readonly http: SignedHttp,
    private readonly names: IndexNames,
    private readonly budget: RetryBudget,
  ) {}

  async replay(key: string): Promise<IngestAnswer | null> {
    // GET by id is real-time in OpenSearch: a record written a moment ago is found without a refresh.
    const answer = await this.http.call<GetAnswer>(
      {
        method: "GET",
        path: `/${this.names.requests}/_doc/${encodeURIComponent(key)}`,
        expect: [404],
      },
      "reading an idempotency record",
    );
    const record = answer.body._source;
    if (answer.status === 404 || answer.body.found !== true || record === undefined) return null;
    return { status: record.status, body: record.body, replayed: true };
  }

  /**
   * The readings first (`create`, `_id` = reading id, in the month index of
   * each reading's ts), then the record under the key: a request that
   * failed half-way leaves no record, and its retry finds the readings
   * already stored as 409s (duplicates, not stored twice). When another
   * process recorded the key meanwhile, its answer is the answer.
   */
  async ingest(unit: IngestUnit, key: string | null, receivedAt: number): Promise<IngestOutcome> {
    const items = unit.rows.map((row) => ({
      index: this.names.readingsOf(row.ts),
      id: row.id,
      label: row.id,
      document: readingDocument(unit, row, receivedAt),
    }));
    const results =
      items.length === 0 ? [] : await bulkCreate(this.http, items, "reading", this.budget);
    const accepted = results.filter((result) => result === "created").length;
    const duplicates = results.length - accepted;
    const body = JSON.stringify({ accepted, duplicates, batchId: unit.batchId });
    this.counts.readings += accepted;
    this.counts.duplicates += duplicates;
    this.counts.batches += 1;
    const outcome: IngestOutcome = { status: 200, body, replayed: false, accepted, duplicates };
    if (key === null) return outcome;
    const record: RequestRecord = {
      status: 200,
      body,
      batchId: unit.batchId,
      format: unit.format,
      receivedAt,
    };
    const created = await this.http.call<unknown>(
      {
        method: "PUT",
        path: `/${this.names.requests}/_create/${encodeURIComponent(key)}`,
        body: record,
        expect: [409],
      },
      "recording the idempotency key",
    );
    if (created.status !== 409) return outcome;
    const prior = await this.replay(key);
    // Gone again (a retention pass): this request's own answer stands.
    if (prior === null) return outcome;
    return { ...prior, accepted: 0, duplicates: 0 };
  }

  stats(): IngestStats {
    return { ...this.counts, scope: "process" };
  }
}
