import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localContext, toApiGatewayEvent } from '../../local/api-gateway-event';
import { Router } from '../../local/router';
import { routes } from '../../lib/routes';
import { synthStampede } from './synth';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const outdir = mkdtempSync(join(tmpdir(), 'stampede-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

// The one infra test that bundles for real (the others skip bundling to stay fast).
describe('the function bundles', () => {
  let bundleDirs: Map<string, string>;
  beforeAll(() => {
    const { stack, template } = synthStampede({}, { bundle: true, outdir });
    const functions = template.findResources('AWS::Lambda::Function');
    bundleDirs = new Map(
      routes.map((route) => {
        const id = stack.getLogicalId(stack.functions.get(route.id)!.function.node.defaultChild as CfnFunction);
        const key = functions[id]!.Properties.Code.S3Key as string;
        return [route.id, join(outdir, `asset.${key.replace(/\.zip$/, '')}`)];
      }),
    );
  });
  const bundleDir = (routeId: string) => bundleDirs.get(routeId)!;

  it.each(routes.map((route) => [route.id]))('%s: one minified CommonJS file with its source map, SDK included', (routeId) => {
    const dir = bundleDir(routeId);
    expect(readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
    const code = readFileSync(join(dir, 'index.js'), 'utf8');
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.js.map')).toBe(true);
    // Minified: long lines (whitespace and comments gone), not thousands of short ones.
    expect(code.length / code.split('\n').length).toBeGreaterThan(2_000);
    // Everything is bundled, the SDK included (the version in package-lock.json, not the
    // runtime's): the only requires left are Node's own modules and the SDK's optional CRT
    // signer, which it loads inside a try/catch and Stampede never needs.
    const required = new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]!));
    expect([...required].filter((name) => !name.startsWith('node:'))).toEqual(['@aws-sdk/signature-v4-crt']);
    expect(statSync(join(dir, 'index.js')).size).toBeLessThan(1024 * 1024);
    const map = JSON.parse(readFileSync(join(dir, 'index.js.map'), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    expect(map.sources.some((source) => source.endsWith(routes.find((route) => route.id === routeId)!.entry))).toBe(true);
    expect(map.sourcesContent).toBeUndefined();
  });

  it('serve requests: the bundled CreateEvent and GetEvent work against DynamoDB Local', async () => {
    const load = createRequire(__filename);
    const handlerOf = (routeId: string) => (load(join(bundleDir(routeId), 'index.js')) as { handler: Handler }).handler;
    const router = new Router(routes);
    const call = async (routeId: string, method: string, path: string, body?: unknown) => {
      const match = router.match(method, path)!;
      const event = toApiGatewayEvent({ method, path, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }, match);
      const result = await handlerOf(routeId)(event, localContext(routeId, event.requestContext.requestId));
      return { status: result.statusCode, body: JSON.parse(result.body!) };
    };

    const created = await call('CreateEvent', 'POST', '/events', { name: 'Bundled', capacity: 30, shards: 3 });
    expect(created.status).toBe(201);
    const read = await call('GetEvent', 'GET', `/events/${created.body.eventId}`);
    expect(read).toMatchObject({ status: 200, body: { eventId: created.body.eventId, capacity: 30, available: 30 } });
  });
});
