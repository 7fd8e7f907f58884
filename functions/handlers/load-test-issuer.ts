import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { discoveryPath, jwksPath, jwksUri, type LoadTestIssuerConfig, loadTestIssuerConfig } from './load-test-issuer-config';

/**
 * GET /load-test-issuer/.well-known/openid-configuration and .../jwks.json: the two documents
 * API Gateway's JWT authorizer fetches to check the tokens of a load test (sandbox stages
 * deployed with `-c loadTestIssuerJwk=`). It publishes a public key and nothing else: no table,
 * no SDK, so a cold start stays well inside the 1,500 ms API Gateway waits for either document.
 */
export function createHandler(config: LoadTestIssuerConfig) {
  // The authorizer reads `jwks_uri` from the discovery document; `issuer` says whose keys they are.
  const documents = new Map<string, string>([
    [`GET ${discoveryPath}`, JSON.stringify({ issuer: config.issuer, jwks_uri: jwksUri(config.issuer) })],
    [`GET ${jwksPath}`, JSON.stringify({ keys: [config.publicJwk] })],
  ]);
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const body = documents.get(event.routeKey);
    if (body === undefined) {
      return {
        statusCode: 404,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'route_not_found', message: 'No such document.' }),
      };
    }
    return { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }, body };
  };
}

export const handler = createHandler(loadTestIssuerConfig());
