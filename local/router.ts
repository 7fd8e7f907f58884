import type { RouteDefinition } from '../lib/routes';

export interface RouteMatch<R extends RouteDefinition = RouteDefinition> {
  readonly route: R;
  readonly pathParameters: Record<string, string>;
}

/** Matches method + path against the route table the way API Gateway does for `{param}` segments. */
export class Router<R extends RouteDefinition = RouteDefinition> {
  private readonly compiled: { route: R; pattern: RegExp; names: string[] }[];

  constructor(routes: readonly R[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const source = route.path
        .split('/')
        .map((segment) => {
          const parameter = /^\{(\w+)\}$/.exec(segment);
          if (!parameter) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(parameter[1]!);
          return '([^/]+)';
        })
        .join('/');
      return { route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  match(method: string, path: string): RouteMatch<R> | undefined {
    for (const { route, pattern, names } of this.compiled) {
      if (route.method !== method) continue;
      const found = pattern.exec(path);
      if (!found) continue;
      const pathParameters: Record<string, string> = {};
      names.forEach((name, index) => {
        pathParameters[name] = decodePathSegment(found[index + 1]!);
      });
      return { route, pathParameters };
    }
    return undefined;
  }
}

/**
 * A path segment that is not valid percent-encoding (a lone `%`, a cut UTF-8 sequence) is passed
 * on as it came: no id looks like that, so the route answers 404 as for any unknown id, a status
 * its contract lists, instead of an error the router would add.
 */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
