import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Fault and interleaving injection at the SDK boundary, for what DynamoDB Local never does on
 * its own (conflicts, throttling, lost responses) and for forcing a race deterministically.
 * Middleware added to a document client sees its command name and un-marshalled input.
 */
export interface CallInfo {
  /** The DynamoDB operation, e.g. `GetItem`, `UpdateItem`, `TransactWriteItems`. */
  readonly operation: string;
  /** The document-client (un-marshalled) input. */
  readonly input: Record<string, any>;
}

// The document client shares the base client's middleware stack, so the command name is the
// low-level one (`GetItemCommand`); at the `initialize` step the input is not marshalled yet.
const callInfo = (commandName: string | undefined, input: unknown): CallInfo => ({
  operation: (commandName ?? '').replace(/Command$/, ''),
  input: input as Record<string, any>,
});

/** Runs `before` ahead of every call that matches (it may throw to fail the call unsent). */
export function beforeCalls(db: DynamoDBDocumentClient, matches: (call: CallInfo) => boolean, before: (call: CallInfo) => Promise<void> | void) {
  db.middlewareStack.add(
    (next, context) => async (args) => {
      const call = callInfo(context.commandName, args.input);
      if (matches(call)) await before(call);
      return next(args);
    },
    { step: 'initialize', name: `injectBefore${Math.random()}` },
  );
}

/** Runs `after` once a matching call succeeded (it may throw to lose the response). */
export function afterCalls(db: DynamoDBDocumentClient, matches: (call: CallInfo) => boolean, after: (call: CallInfo) => Promise<void> | void) {
  db.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const call = callInfo(context.commandName, args.input);
      if (matches(call)) await after(call);
      return result;
    },
    { step: 'initialize', name: `injectAfter${Math.random()}` },
  );
}

/**
 * Follows every call of the client until it has answered or failed. A test that stops at the
 * first failure of a run (`Promise.all` rejects at once) waits with `settled()` for the calls
 * still in flight, as a killed process's writes still land at the table.
 */
export function callsInFlight(db: DynamoDBDocumentClient): { settled(): Promise<void> } {
  const calls: Promise<unknown>[] = [];
  db.middlewareStack.add(
    (next) => (args) => {
      const call = next(args);
      calls.push(call.catch(() => undefined));
      return call;
    },
    { step: 'initialize', name: `callsInFlight${Math.random()}` },
  );
  return {
    async settled() {
      let seen: number;
      do {
        seen = calls.length;
        await Promise.all(calls);
      } while (calls.length > seen);
    },
  };
}

/**
 * The process dies right after the first call that matches has succeeded: every later call of
 * the client fails unsent (ProcessKilled), undo included, as if the process had gone.
 */
export function killAfterFirst(db: DynamoDBDocumentClient, matches: (call: CallInfo) => boolean): void {
  let killed = false;
  beforeCalls(
    db,
    () => true,
    () => {
      if (killed) throw sdkError('ProcessKilled');
    },
  );
  afterCalls(db, matches, () => {
    killed = true;
  });
}

/** Runs `after` once, after the first call that matches has succeeded (it may throw to lose that answer). */
export function afterFirstCall(db: DynamoDBDocumentClient, matches: (call: CallInfo) => boolean, after: (call: CallInfo) => Promise<void> | void) {
  let done = false;
  afterCalls(
    db,
    (call) => !done && matches(call),
    (call) => {
      done = true;
      return after(call);
    },
  );
}

/**
 * The first matching write happens and the caller gets `error` instead of its answer (e.g. a
 * TimeoutError, or a ThrottlingException from the SDK's retry of it). Returns how many answers were
 * lost so far (at most 1).
 */
export function loseFirstAnswer(db: DynamoDBDocumentClient, matches: (call: CallInfo) => boolean, error: () => Error): () => number {
  let lost = 0;
  afterFirstCall(db, matches, () => {
    lost++;
    throw error();
  });
  return () => lost;
}

/**
 * The first matching conditional write happens, its answer is lost, and the SDK's retry of the same
 * write finds its own item: the caller sees ConditionalCheckFailedException for a write that was
 * its own. Returns how many answers were lost so far (at most 1).
 */
export function loseFirstAnswerToItsRetry(db: DynamoDBDocumentClient, matches: (call: CallInfo) => boolean): () => number {
  return loseFirstAnswer(db, matches, () => sdkError('ConditionalCheckFailedException'));
}

/** An SDK-shaped error (the data layer recognises errors by name, as for real SDK exceptions). */
export function sdkError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`Injected ${name}`), { name, $fault: 'client', $metadata: {}, ...extra });
}

export function transactionConflict(items: number): Error {
  return sdkError('TransactionCanceledException', {
    CancellationReasons: Array.from({ length: items }, (_, i) => ({ Code: i === 0 ? 'TransactionConflict' : 'None' })),
  });
}

/**
 * Resolves for everyone once `parties` callers have arrived, forcing them to overlap; later
 * callers pass straight through. No timeout: a test that uses it must know exactly how many
 * callers will come (otherwise it hangs and vitest's test timeout reports it).
 */
export function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    arrived++;
    if (arrived >= parties) open();
    return opened;
  };
}
