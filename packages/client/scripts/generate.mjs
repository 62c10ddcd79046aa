// The client's types from the OpenAPI document: `npm run client:generate` (or `npm run generate`
// here) writes src/schema.ts; npm test regenerates it in memory and fails when the checked-in
// file differs (src/schema.test.ts), so the client never lags the document.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

export const DOCUMENT = fileURLToPath(new URL('../../../docs/openapi.yaml', import.meta.url));
export const SCHEMA_FILE = fileURLToPath(new URL('../src/schema.ts', import.meta.url));

const HEADER = `// Generated from docs/openapi.yaml by openapi-typescript: do not edit.
// Regenerate with \`npm run client:generate\`; npm test fails while this file is out of date.
`;

/** The TypeScript text of the document's paths, operations and components. */
export async function generateSchema() {
  const ast = await openapiTS(readFileSync(DOCUMENT, 'utf8'), { alphabetize: false });
  return HEADER + astToString(ast);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = await generateSchema();
  writeFileSync(SCHEMA_FILE, text);
  process.stdout.write(`wrote ${SCHEMA_FILE} (${text.length} characters)\n`);
}
