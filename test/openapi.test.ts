import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mumbleEndpoints, openApiDocument } from '../src/app.js';
import { clientSchemaSource } from '../scripts/client-schema.js';

describe('OpenAPI document', () => {
  const generated = openApiDocument();

  it('matches the committed openapi.json (run `npm run openapi` after changing an endpoint)', () => {
    const committed = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(generated);
  });

  it("matches the typed client's committed types (run `npm run openapi` after changing an endpoint)", async () => {
    const committed = readFileSync(new URL('../packages/client/src/schema.ts', import.meta.url), 'utf8');
    expect(committed).toBe(await clientSchemaSource(generated));
  });

  it('documents every endpoint, its aliases and the POST form of read-only endpoints', () => {
    for (const endpoint of mumbleEndpoints) {
      for (const path of [endpoint.path, ...(endpoint.aliases ?? [])]) {
        const item = generated.paths[path] as Record<string, { responses: Record<string, unknown> }>;
        expect(item, path).toBeDefined();
        expect(item[endpoint.method.toLowerCase()]?.responses['200'], `${endpoint.method} ${path}`).toBeDefined();
        if (endpoint.method === 'GET') expect(item.post, `POST ${path}`).toBeDefined();
      }
    }
  });

  it('lists each endpoint\'s contract errors with their exact messages', () => {
    const operation = (generated.paths['/mumbleapi/edit-customer'] as Record<string, { responses: Record<string, { content: Record<string, { examples: Record<string, { value: { message: string } }> }> }> }>).post;
    const messages = Object.values(operation.responses['400'].content['application/json'].examples).map((example) => example.value.message);
    expect(messages).toEqual(
      expect.arrayContaining(['Phone number is required.', 'Failed to update customer due to invalid input', 'Cannot add more than 15 custom fields per account']),
    );
  });
});
