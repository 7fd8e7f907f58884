import { resolve } from 'node:path';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/** The repository root: handler entries are relative to it. */
export const projectRoot = resolve(__dirname, '..', '..');

/**
 * What every Stampede function is, whatever it serves: Node.js 22 on ARM64, bundled by the
 * local esbuild (never Docker) into one minified CommonJS file with a source map. The route
 * functions (StampedeFunction) and the load-test issuer (LoadTestIssuer) are built the same
 * way; test/infra/identity.test.ts compares them.
 */
export function nodeFunctionDefaults(): Pick<NodejsFunctionProps, 'projectRoot' | 'depsLockFilePath' | 'runtime' | 'architecture' | 'bundling'> {
  requireLocalEsbuild();
  return {
    projectRoot,
    depsLockFilePath: resolve(projectRoot, 'package-lock.json'),
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    bundling: {
      // Local esbuild from node_modules; Docker is only a fallback when it is missing.
      forceDockerBundling: false,
      format: OutputFormat.CJS,
      target: 'node22',
      minify: true,
      sourceMap: true,
      // The maps point at the files in this repository; no need to ship the sources too.
      sourcesContent: false,
      // Ship the SDK version the code was tested with (package-lock.json), not the runtime's.
      bundleAwsSDK: true,
      externalModules: [],
      // Prefer the packages' ES modules: esbuild tree-shakes them.
      mainFields: ['module', 'main'],
    },
  };
}

/** Why the pinned runtime is accepted (cdk-nag AwsSolutions-L1 wants the latest). */
export const pinnedRuntimeReason =
  'Node.js 22 is the runtime this project targets and tests for; it is a supported Lambda LTS runtime. ' +
  'Moving to a newer one is a deliberate change with a test run, not something a lint rule should make implicitly.';

/**
 * NodejsFunction falls back to bundling in Docker when it finds no esbuild; Stampede never
 * wants that (no Docker in CI, slower, and a different esbuild than the lock file's).
 */
function requireLocalEsbuild(): void {
  try {
    require.resolve('esbuild', { paths: [projectRoot] });
  } catch {
    throw new Error("esbuild is not installed: run 'npm ci'. Stampede bundles its functions with the local esbuild, never with Docker.");
  }
}
