import { describe, expect, it } from "vitest";
import {
  ADAPTER_CASES,
  type CaseAnswer,
  COMPARED_HEADERS,
  checkAnswer,
} from "../cloud/adapter-cases.js";
import { type AdapterName, useAdapters } from "./adapters.js";

const adapters = useAdapters();
const NAMES: readonly AdapterName[] = ["node", "lambda"];

/** What both adapters must answer alike: status, body (JSON parsed) and the headers clients act on. */
function comparable(answer: CaseAnswer) {
  const isJson = answer.headers["content-type"]?.startsWith("application/json");
  return {
    status: answer.status,
    body: isJson ? JSON.parse(answer.text) : answer.text,
    headers: Object.fromEntries(
      COMPARED_HEADERS.map((name) => [name, answer.headers[name] ?? null]),
    ),
  };
}

describe("one table, both adapters: the Node server and the Lambda handler", () => {
  it.each(ADAPTER_CASES.map((one) => [one.name, one] as const))("%s", async (_name, one) => {
    const answers = new Map<AdapterName, CaseAnswer[]>();
    for (const name of NAMES) {
      const adapter = await adapters.start(name, one.setup);
      const got: CaseAnswer[] = [];
      for (const [index, step] of one.steps.entries()) {
        const answer = await adapter.send(step.request);
        checkAnswer(`${name} step ${index + 1}`, answer, step.expect);
        got.push(answer);
      }
      if (one.stats !== undefined) {
        expect([name, await adapter.stats()]).toEqual([name, { ...one.stats, scope: "database" }]);
      }
      answers.set(name, got);
    }
    expect((answers.get("lambda") ?? []).map(comparable)).toEqual(
      (answers.get("node") ?? []).map(comparable),
    );
  });
});
