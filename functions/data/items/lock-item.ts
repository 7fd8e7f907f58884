/**
 * An event's lease lock, for the `pessimistic` strategy. Item: pk `EVENT#<eventId>#LOCK`, sk `LOCK`.
 *
 * Modelled on the Amazon DynamoDB Lock Client's lease design
 * (https://github.com/awslabs/amazon-dynamodb-lock-client, "How we handle clock skew"):
 * - `owner`: the holder's random id; absent when the lock is free.
 * - `recordVersion`: a new random id at every acquire and heartbeat. A waiter that sees the same
 *   one for `leaseDurationMs` of its own clock knows the holder stopped heartbeating, and takes
 *   the lock over on the condition that it is still that version. No absolute time is stored,
 *   so no two machines' clocks are ever compared.
 * - `leaseDurationMs`: how long the holder may go without a heartbeat; waiters use the holder's.
 * - `fencingToken`: +1 at every acquire. The hold's transaction releases the lock on the
 *   condition that owner and token are still ours, so a holder whose lease ran out while it was
 *   paused cannot write anything (Kleppmann, "How to do distributed locking", 2016).
 */
const lockItemType = 'Lock';

export function lockKey(eventId: string) {
  return { pk: `EVENT#${eventId}#LOCK`, sk: 'LOCK' };
}

/** The lock as a waiter reads it. */
export interface LockState {
  readonly owner?: string;
  readonly recordVersion?: string;
  readonly leaseDurationMs: number;
  readonly fencingToken: number;
}

export function fromLockItem(item: Record<string, unknown>): LockState {
  return {
    owner: item.owner === undefined ? undefined : String(item.owner),
    recordVersion: item.recordVersion === undefined ? undefined : String(item.recordVersion),
    leaseDurationMs: Number(item.leaseDurationMs ?? 0),
    fencingToken: Number(item.fencingToken ?? 0),
  };
}

/** What a holder knows about the lock it took: every later write is conditional on owner and token. */
export interface Lease {
  readonly eventId: string;
  readonly owner: string;
  readonly fencingToken: number;
  readonly leaseDurationMs: number;
}

export interface AcquireRequest {
  readonly owner: string;
  readonly recordVersion: string;
  readonly leaseDurationMs: number;
  /** Take over a lock whose holder stopped heartbeating: the recordVersion seen unchanged for its lease. */
  readonly staleVersion?: string;
}

/**
 * Take the lock if it is free (or, with `staleVersion`, if it is still the stale one we watched).
 * UPDATED_NEW returns the new fencing token.
 */
export function acquireLock(tableName: string, eventId: string, request: AcquireRequest) {
  const takeOver = request.staleVersion !== undefined;
  return {
    TableName: tableName,
    Key: lockKey(eventId),
    UpdateExpression: 'SET #type = :type, #eventId = :eventId, #owner = :owner, #recordVersion = :recordVersion, #lease = :lease ADD #token :one',
    ConditionExpression: takeOver ? '#recordVersion = :stale' : 'attribute_not_exists(#owner)',
    ExpressionAttributeNames: {
      '#type': 'type',
      '#eventId': 'eventId',
      '#owner': 'owner',
      '#recordVersion': 'recordVersion',
      '#lease': 'leaseDurationMs',
      '#token': 'fencingToken',
    },
    ExpressionAttributeValues: {
      ':type': lockItemType,
      ':eventId': eventId,
      ':owner': request.owner,
      ':recordVersion': request.recordVersion,
      ':lease': request.leaseDurationMs,
      ':one': 1,
      ...(takeOver && { ':stale': request.staleVersion }),
    },
    ReturnValues: 'UPDATED_NEW' as const,
    // A refused acquire learns the lock's holder and version from the refusal, without a read (AWS; DynamoDB Local ignores it).
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

const stillOurs = {
  ConditionExpression: '#owner = :owner AND #token = :token',
  names: { '#owner': 'owner', '#token': 'fencingToken' },
  values: (lease: Lease) => ({ ':owner': lease.owner, ':token': lease.fencingToken }),
};

/** Renew the lease: a new recordVersion tells waiters the holder is alive. Only while it is still ours. */
export function heartbeatLock(tableName: string, lease: Lease, recordVersion: string) {
  return {
    TableName: tableName,
    Key: lockKey(lease.eventId),
    UpdateExpression: 'SET #recordVersion = :recordVersion',
    ConditionExpression: stillOurs.ConditionExpression,
    ExpressionAttributeNames: { ...stillOurs.names, '#recordVersion': 'recordVersion' },
    ExpressionAttributeValues: { ...stillOurs.values(lease), ':recordVersion': recordVersion },
  };
}

/**
 * Free the lock, only if owner and token are still ours: in the hold's transaction this is the
 * fencing check, atomic with the writes; alone, it releases after a refusal.
 */
export function releaseLock(tableName: string, lease: Lease) {
  return {
    TableName: tableName,
    Key: lockKey(lease.eventId),
    UpdateExpression: 'REMOVE #owner',
    ConditionExpression: stillOurs.ConditionExpression,
    ExpressionAttributeNames: stillOurs.names,
    ExpressionAttributeValues: stillOurs.values(lease),
  };
}
