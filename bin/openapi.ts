/**
 * `npm run openapi`: write the HTTP API's OpenAPI document (docs/openapi.json) and its
 * rendering for people (docs/api.md) from the route table and the schemas. A test fails when
 * the committed files differ from what this writes, so run it after changing the contract.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { apiReference } from '../lib/api-reference';
import { buildOpenApi } from '../lib/openapi';

const docs = resolve(__dirname, '..', 'docs');
const document = buildOpenApi();
writeFileSync(resolve(docs, 'openapi.json'), `${JSON.stringify(document, null, 2)}\n`);
writeFileSync(resolve(docs, 'api.md'), apiReference(document));
console.log('Wrote docs/openapi.json and docs/api.md');
