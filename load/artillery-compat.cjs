/**
 * Preloaded into Artillery 2.0.21 (`node --require ./load/artillery-compat.cjs`), by
 * `npm run artillery` and `npm run rush`. Two fixes, nothing else:
 *
 * 1. Artillery loads `@typescript-eslint/typescript-estree` (through dependency-tree ->
 *    precinct -> detective-typescript) at startup. npm hoists it to the root, where
 *    `require('typescript')` finds this project's TypeScript 7 (the native compiler, which has
 *    no JavaScript API) and Artillery dies with "Cannot read properties of undefined (reading
 *    'BarBarToken')". detective-typescript ships the TypeScript 5 it was built for: give it
 *    that one.
 * 2. With ARTILLERY_DISABLE_TELEMETRY set, 2.0.21 still sends an anonymous event and then
 *    waits ~13 s at exit for a network that is not there (fixed upstream in 2.0.28). When the
 *    variable is set, PostHog is replaced by a client that sends nothing.
 */
'use strict';
const Module = require('node:module');
const path = require('node:path');

let typescriptForEstree;
try {
  const detective = path.dirname(require.resolve('detective-typescript/package.json'));
  typescriptForEstree = require.resolve('typescript', { paths: [detective] });
} catch {
  // Not installed the way we expect: leave resolution alone.
}

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === 'typescript' && typescriptForEstree && /[\\/](@typescript-eslint|tsutils)[\\/]/.test(parent?.filename ?? '')) {
    return typescriptForEstree;
  }
  return resolveFilename.call(this, request, parent, ...rest);
};

if (process.env.ARTILLERY_DISABLE_TELEMETRY) {
  const load = Module._load;
  class SilentPostHog {
    capture() {}
    async shutdownAsync() {}
  }
  Module._load = function (request, ...rest) {
    if (request === 'posthog-node') return { PostHog: SilentPostHog };
    return load.call(this, request, ...rest);
  };
}
