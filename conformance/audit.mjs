// The graphql-http server audit (GraphQL over HTTP spec conformance) against a running
// server: `node audit.mjs http://127.0.0.1:8080/graphql`. Exits non-zero when any MUST
// (error) or SHOULD (warn) audit fails; MAY audits that fail are listed as notices.
import { auditServer } from 'graphql-http';

const url = process.argv[2] ?? process.env.GRAPHQL_URL ?? 'http://127.0.0.1:8080/graphql';
const results = await auditServer({ url });
let failed = 0;
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const r of results) {
  counts[r.status] += 1;
  if (r.status === 'ok') continue;
  if (r.status !== 'notice') failed += 1;
  let body = '';
  try {
    body = await r.response.text();
  } catch {
    // already read by the audit
  }
  console.log(`${r.status.toUpperCase()} ${r.name}\n  ${r.reason}\n  HTTP ${r.response.status} ${r.response.headers.get('content-type') ?? ''} ${body.slice(0, 200)}`);
}
console.log(
  `graphql-http audit of ${url}: ${results.length} audits, ${counts.ok} ok, ` +
    `${counts.error} MUST failed, ${counts.warn} SHOULD failed, ${counts.notice} MAY notices`,
);
process.exit(failed ? 1 : 0);
