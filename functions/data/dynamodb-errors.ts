import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * Recognising DynamoDB's errors. Everything here matches on the error's `name`, so it works
 * the same for real SDK exceptions and for faults injected in tests.
 */

type CancellationCode =
  | 'None'
  | 'ConditionalCheckFailed'
  | 'TransactionConflict'
  | 'ThrottlingError'
  | 'ProvisionedThroughputExceeded'
  | 'ItemCollectionSizeLimitExceeded'
  | 'ValidationError'
  | string;

export interface CancellationReason {
  readonly code: CancellationCode;
  /** The item as it was, when the write asked for ReturnValuesOnConditionCheckFailure. */
  readonly item?: Record<string, unknown>;
}

/**
 * Errors that say "not now, try again": throttling, and a transaction whose earlier send with the
 * same token is still in flight (the SDK's own retry policy classes it with throttling too). Every
 * write the retrier repeats is conditional, so a repeat after one of these is decided by its condition.
 */
const throttleNames = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'TransactionInProgressException']);

const throttleReasonCodes = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded']);

export function isConditionalCheckFailed(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/** A single write that collided with an in-flight transaction on the same item. */
export function isTransactionConflict(error: unknown): boolean {
  return errorName(error) === 'TransactionConflictException';
}

export function isThrottle(error: unknown): boolean {
  return throttleNames.has(errorName(error) ?? '');
}

/** Cancellation reasons, in the order of the transaction's items; undefined if not a cancellation. */
export function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (errorName(error) !== 'TransactionCanceledException') return undefined;
  const raw = (error as { CancellationReasons?: { Code?: string; Item?: Record<string, AttributeValue> }[] }).CancellationReasons;
  return (raw ?? []).map((reason) => ({
    code: reason.Code ?? 'None',
    // Cancellation reasons carry raw AttributeValues even through the document client.
    item: reason.Item && Object.keys(reason.Item).length > 0 ? unmarshall(reason.Item) : undefined,
  }));
}

/** True when a cancellation was caused by a race or by throttling: retrying may succeed. */
export function isRetryableReason(reason: CancellationReason): boolean {
  return reason.code === 'TransactionConflict' || throttleReasonCodes.has(reason.code);
}

/** The item a failed single conditional write returned (AWS does; DynamoDB Local does not). */
export function conditionFailureItem(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item && Object.keys(item).length > 0 ? unmarshall(item) : undefined;
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { name?: string }).name : undefined;
}
