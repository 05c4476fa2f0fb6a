// `npm run openapi`: writes openapi.json from the endpoint schemas. A test fails when the committed
// file drifts from what the code generates.
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../src/app.js';

writeFileSync(new URL('../openapi.json', import.meta.url), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log('wrote openapi.json');
