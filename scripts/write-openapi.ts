// `npm run openapi`: writes openapi.json from the endpoint schemas, and the typed client's types
// (packages/client/src/schema.ts) from it. A test fails when either committed file drifts from what
// the code generates.
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../src/app.js';
import { clientSchemaSource } from './client-schema.js';

const document = openApiDocument();
writeFileSync(new URL('../openapi.json', import.meta.url), `${JSON.stringify(document, null, 2)}\n`);
writeFileSync(new URL('../packages/client/src/schema.ts', import.meta.url), await clientSchemaSource(document));
console.log('wrote openapi.json and packages/client/src/schema.ts');
