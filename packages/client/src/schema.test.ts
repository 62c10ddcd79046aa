import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { generateSchema, SCHEMA_FILE } from '../scripts/generate.mjs';

describe('the generated client', () => {
  it('is current: src/schema.ts is what openapi-typescript makes of docs/openapi.yaml now', async () => {
    const fresh = await generateSchema();
    const checkedIn = readFileSync(SCHEMA_FILE, 'utf8');
    assert.ok(fresh === checkedIn, 'packages/client/src/schema.ts is out of date with docs/openapi.yaml: run `npm run client:generate` and commit the result');
  });
});
