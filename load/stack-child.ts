import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StackReady } from './stack-process';

/**
 * The local stack (load/stack-process.ts) as a child process of the rush, so its CPU time can
 * be read apart from the rush's and Artillery's. Its output goes to `<outputDir>/api.log`.
 */
export interface RunningStack {
  readonly ready: StackReady;
  stop(): Promise<void>;
  /** Kill the API process at once (no cleanup, no answers for what it was doing); DynamoDB Local is left alone if it was given. */
  kill(): Promise<void>;
}

export interface StackChildOptions {
  readonly tableName: string;
  /** A DynamoDB Local that is already running; unset = the child starts its own. */
  readonly dynamoDbEndpoint?: string;
  /** The control strategy is refused unless the API process allows it. */
  readonly allowUnsafe: boolean;
  /** More configuration for the API process (functions/config.ts variables). */
  readonly environment?: Readonly<Record<string, string>>;
  readonly outputDir: string;
  /** The API's log file name in outputDir. @default api.log */
  readonly logName?: string;
}

const root = resolve(__dirname, '..');
const stackEntry = join(root, 'load', 'stack-process.ts');

export async function startStackChild(options: StackChildOptions): Promise<RunningStack> {
  const logFile = join(options.outputDir, options.logName ?? 'api.log');
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', stackEntry], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      ...process.env,
      ...options.environment,
      TABLE_NAME: options.tableName,
      DYNAMODB_ENDPOINT: options.dynamoDbEndpoint ?? process.env.DYNAMODB_ENDPOINT,
      STAMPEDE_ALLOW_UNSAFE: options.allowUnsafe ? '1' : process.env.STAMPEDE_ALLOW_UNSAFE,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const ready = await new Promise<StackReady>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`The local stack did not start within 60 s; see ${logFile}`)), 60_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolveReady(message as StackReady);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The local stack exited with ${code} before it was ready; see ${logFile}`));
    });
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  return {
    ready,
    stop: () => stopChild(child),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolveStop();
    });
    // Closing the IPC channel asks it to stop DynamoDB Local and exit.
    if (child.connected) child.disconnect();
    else child.kill('SIGTERM');
  });
}
