import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../functions/domain/errors';
import { statusByCode } from '../../functions/http/responses';
import { apiReference } from '../../lib/api-reference';
import { buildOpenApi } from '../../lib/openapi';
import { routeKey, routes } from '../../lib/routes';

const docs = resolve(__dirname, '..', '..', 'docs');
const document = buildOpenApi();

describe('the OpenAPI document', () => {
  it('is committed as generated: run `npm run openapi` after changing a schema or a route', () => {
    expect(JSON.parse(readFileSync(resolve(docs, 'openapi.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(document)));
    expect(readFileSync(resolve(docs, 'api.md'), 'utf8')).toBe(apiReference(document));
  });

  it('describes every route of the route table, and nothing else', () => {
    const described = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(described.sort()).toEqual(routes.map(routeKey).sort());
  });

  it('gives every route its error statuses from the one error mapping, with the error schema', () => {
    for (const route of routes) {
      const responses = document.paths[route.path]![route.method.toLowerCase()]!.responses as Record<string, { content: object }>;
      for (const code of route.contract.errors) expect(Object.keys(responses), `${route.id} ${code}`).toContain(String(statusByCode[code]));
      expect(Object.keys(responses)).toEqual(expect.arrayContaining(['500', '503']));
      expect(JSON.stringify(responses['500'])).toContain('#/components/schemas/Error');
    }
  });

  it("has the README's API table list, for each route, every error its contract answers", () => {
    const readme = readFileSync(resolve(docs, '..', 'README.md'), 'utf8');
    expect(readme).toContain('503 `throughput_exceeded`'); // the one error every route may answer
    for (const route of routes) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${route.method} ${route.path}\``));
      expect(row, routeKey(route)).toBeDefined();
      const errors = row!.split('|').at(-2)!;
      for (const code of route.contract.errors) {
        expect(errors, `${routeKey(route)}: ${code}`).toContain(String(statusByCode[code]));
        expect(errors, `${routeKey(route)}: ${code}`).toContain(code);
      }
    }
  });

  it('carries the limits the validation enforces', () => {
    const schemas = (document.components as { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> }).schemas;
    expect(schemas.NewEvent!.properties.capacity).toMatchObject({ type: 'integer', minimum: 1, maximum: 1_000_000 });
    expect(schemas.NewEvent!.properties.name).toMatchObject({ type: 'string', minLength: 1, maxLength: 200 });
    expect(JSON.stringify(document.paths['/events/{eventId}/reservations'])).toContain('Idempotency-Key');
  });

  it('lists every error code the routes can answer in the error mapping', () => {
    const codes = new Set(routes.flatMap((route) => route.contract.errors as ErrorCode[]));
    for (const code of codes) expect(statusByCode[code]).toBeGreaterThanOrEqual(400);
  });
});
