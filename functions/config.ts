/**
 * Configuration, read once per process (Lambda cold start or local server start) and
 * injected from there. A missing or malformed variable fails the cold start with a message
 * that names it, instead of failing the 1,000th request.
 */
export interface StampedeConfig {
  readonly tableName: string;
  readonly region: string;
  /** Set for DynamoDB Local; unset on AWS. */
  readonly endpoint?: string;
  /** The unsafe strategy oversells on purpose; only test and benchmark processes enable it. */
  readonly allowUnsafe: boolean;
  /** Max DynamoDB requests in flight from this process (and HTTP connections to it). */
  readonly maxSockets: number;
  /** Max API requests this process works on at once (the local server; Lambda sends one). */
  readonly maxConcurrentRequests: number;
  /** Max API requests waiting for a slot before the process answers 503. */
  readonly maxQueuedRequests: number;
  /** Longest an API request may wait for a slot before it is answered 503 instead. */
  readonly maxQueueWaitMs: number;
  /**
   * Longest a hold may keep retrying (conflicts, shard misses, waiting for claimed tickets)
   * before it undoes what it did and answers 503 + Retry-After: well inside the function's
   * timeout, so a hold that runs out of it has time to undo its steps, and inside a client's patience.
   */
  readonly holdBudgetMs: number;
  /**
   * After its budget, how long before a stepwise hold still PENDING counts as interrupted and the
   * sweeper undoes it: room for calls already sent when the budget ran out (the SDK's timeouts).
   * Correctness does not depend on it (every step is conditional on the stage the repair undoes);
   * a margin too short only turns a slow hold into a refused one.
   */
  readonly repairMarginMs: number;
  /**
   * How old an inventory read may be for a sold-out answer or the event page: within this, a
   * process answers from the read it already has instead of reading every shard again. A ticket
   * that comes back (release, expiry, repair) is sellable again within this bound. 0: always read.
   */
  readonly soldOutStalenessMs: number;
  /** `queued`: how long a request waits for its decision before the answer is 202 (QUEUED) instead of 201/409. */
  readonly queueWaitMs: number;
  /** `queued`: a request still undecided this long after it came is REJECTED (not_decided) by the sweeper. */
  readonly queueDecisionTimeoutMs: number;
  /**
   * The `pessimistic` strategy's lease on an event's lock: a holder renews it every third of
   * this while it works, so this is how long a crashed holder can block the event's holds.
   */
  readonly lockLeaseMs: number;
  /**
   * Items per TransactWriteItems/TransactGetItems: 100 on AWS since 2022, but DynamoDB Local
   * 1.11.478 still enforces the old limit of 10, so the default is 10 when an endpoint is set.
   */
  readonly maxTransactionItems: number;
  /** Emit CloudWatch metrics (EMF) through Powertools; only the deployed functions set it. */
  readonly emitMetrics: boolean;
  /**
   * The JWT claim that lists the caller's groups (`cognito:groups` for Cognito; other issuers
   * name it differently). API Gateway hands an array claim over as one string: `"[a b]"`.
   */
  readonly groupsClaim: string;
  /** The group whose members may create events. */
  readonly organizerGroup: string;
}

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): StampedeConfig {
  const problems: string[] = [];
  const tableName = env.TABLE_NAME;
  if (!tableName || tableName.length < 3 || tableName.length > 255) {
    problems.push('TABLE_NAME must name the DynamoDB table (3-255 characters)');
  }
  const endpoint = env.DYNAMODB_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    problems.push(`DYNAMODB_ENDPOINT must be an http(s) URL, got '${endpoint}'`);
  }
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || (endpoint ? localRegion : undefined);
  if (!region) problems.push('AWS_REGION must be set (Lambda sets it; DynamoDB Local does not need it)');
  const allowUnsafe = parseFlag(env.STAMPEDE_ALLOW_UNSAFE, 'STAMPEDE_ALLOW_UNSAFE', problems);
  const emitMetrics = parseFlag(env.STAMPEDE_METRICS, 'STAMPEDE_METRICS', problems);
  const maxSockets = parsePositiveInt(env.STAMPEDE_MAX_SOCKETS, 'STAMPEDE_MAX_SOCKETS', 64, problems);
  const maxConcurrentRequests = parsePositiveInt(env.STAMPEDE_MAX_CONCURRENT_REQUESTS, 'STAMPEDE_MAX_CONCURRENT_REQUESTS', 64, problems);
  const maxQueuedRequests = parsePositiveInt(env.STAMPEDE_MAX_QUEUED_REQUESTS, 'STAMPEDE_MAX_QUEUED_REQUESTS', 20_000, problems);
  const maxQueueWaitMs = parsePositiveInt(env.STAMPEDE_MAX_QUEUE_WAIT_MS, 'STAMPEDE_MAX_QUEUE_WAIT_MS', 5_000, problems);
  const holdBudgetMs = parsePositiveInt(env.STAMPEDE_HOLD_BUDGET_MS, 'STAMPEDE_HOLD_BUDGET_MS', 6_000, problems);
  const repairMarginMs = parsePositiveInt(env.STAMPEDE_REPAIR_MARGIN_MS, 'STAMPEDE_REPAIR_MARGIN_MS', 30_000, problems);
  const queueWaitMs = parseInteger(env.STAMPEDE_QUEUE_WAIT_MS, 'STAMPEDE_QUEUE_WAIT_MS', 1_000, 0, problems);
  const queueDecisionTimeoutMs = parsePositiveInt(env.STAMPEDE_QUEUE_DECISION_TIMEOUT_MS, 'STAMPEDE_QUEUE_DECISION_TIMEOUT_MS', 300_000, problems);
  const soldOutStalenessMs = parseInteger(env.STAMPEDE_SOLD_OUT_STALENESS_MS, 'STAMPEDE_SOLD_OUT_STALENESS_MS', 1_000, 0, problems);
  const lockLeaseMs = parsePositiveInt(env.STAMPEDE_LOCK_LEASE_MS, 'STAMPEDE_LOCK_LEASE_MS', 2_000, problems);
  if (lockLeaseMs >= holdBudgetMs) {
    problems.push('STAMPEDE_LOCK_LEASE_MS must be less than STAMPEDE_HOLD_BUDGET_MS, so a hold can outwait a crashed lock holder');
  }
  const maxTransactionItems = parsePositiveInt(env.STAMPEDE_MAX_TRANSACTION_ITEMS, 'STAMPEDE_MAX_TRANSACTION_ITEMS', endpoint ? 10 : 100, problems);
  if (maxTransactionItems < 3 || maxTransactionItems > 100) {
    problems.push('STAMPEDE_MAX_TRANSACTION_ITEMS must be between 3 and 100');
  }
  const groupsClaim = env.STAMPEDE_GROUPS_CLAIM || 'cognito:groups';
  const organizerGroup = env.STAMPEDE_ORGANIZER_GROUP || 'organizers';
  if (problems.length > 0) throw new ConfigurationError(`Invalid configuration: ${problems.join('; ')}.`);
  return {
    tableName: tableName!,
    region: region!,
    endpoint,
    allowUnsafe,
    maxSockets,
    maxConcurrentRequests,
    maxQueuedRequests,
    maxQueueWaitMs,
    holdBudgetMs,
    repairMarginMs,
    soldOutStalenessMs,
    queueWaitMs,
    queueDecisionTimeoutMs,
    lockLeaseMs,
    maxTransactionItems,
    emitMetrics,
    groupsClaim,
    organizerGroup,
  };
}

/** DynamoDB Local keeps tables per access key and region: every local process must use the same ones. */
export const localRegion = 'us-east-1';
export const localCredentials = { accessKeyId: 'stampedelocal', secretAccessKey: 'stampedelocal' } as const;

function parseFlag(value: string | undefined, name: string, problems: string[]): boolean {
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  problems.push(`${name} must be 1/true or 0/false, got '${value}'`);
  return false;
}

function parsePositiveInt(value: string | undefined, name: string, fallback: number, problems: string[]): number {
  return parseInteger(value, name, fallback, 1, problems);
}

function parseInteger(value: string | undefined, name: string, fallback: number, min: number, problems: string[]): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    problems.push(`${name} must be ${min === 1 ? 'a positive integer' : `an integer of at least ${min}`}, got '${value}'`);
    return fallback;
  }
  return parsed;
}
