// Lints Cypher statements with Neo4j's own language support (the linter of Neo4j's tools).
// stdin: JSON [{"name": ..., "query": ...}]; stdout: JSON [{"name", "diagnostics": [{severity, message, offset}]}].
// Undefined-parameter diagnostics are dropped: parameters are supplied at run time.
import { lintCypherQuery, isNotParamError } from '@neo4j-cypher/language-support';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const statements = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const report = statements.map(({ name, query }) => {
  const { diagnostics } = lintCypherQuery(query, {});
  return {
    name,
    diagnostics: diagnostics.filter(isNotParamError).map((d) => ({
      severity: d.severity, // 1 error, 2 warning, 3 information, 4 hint
      message: d.message,
      offset: d.offsets ? d.offsets.start : null,
    })),
  };
});
process.stdout.write(JSON.stringify(report, null, 1) + '\n');
