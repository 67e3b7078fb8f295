// The ingest Lambda's place in the stack tests: they check the template, not the handler (see test/aws/stack.test.ts).
export async function handler(): Promise<{ statusCode: number; body: string }> {
  return { statusCode: 503, body: '{"error":"stand-in handler of the stack tests"}' };
}
