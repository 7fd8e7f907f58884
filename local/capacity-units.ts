import { sweepIndex, sweepShardOf } from '../functions/data/sweep-index';

/**
 * What a DynamoDB call would cost on AWS, counted from the request itself, item by item, so
 * the cost can be attributed to partition keys (DynamoDB Local's ConsumedCapacity only gives a
 * total per table, and nothing for a call that failed).
 *
 * The rules (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling):
 * - a write is 1 WCU per 1 KB of item; a write whose condition fails still costs it;
 * - a strongly consistent read is 1 RCU per 4 KB (0.5 when eventually consistent);
 * - inside a transaction every item costs double (2 WCU / 2 RCU).
 * Only a Put carries the whole item, so its size is computed; an Update or Delete is counted
 * as 1 KB, which holds for Stampede's items (the largest, a reservation, is ~0.4 KB).
 * A transaction that DynamoDB cancelled is counted as if it had run: an upper bound.
 */
type Access = 'read' | 'write';

export interface KeyCost {
  /** The item's partition key value. */
  readonly pk: string;
  readonly access: Access;
  readonly units: number;
}

type Input = Record<string, unknown>;

export function countedCost(command: string, input: Input): KeyCost[] {
  switch (operationName(command)) {
    case 'PutItem':
      return [write(input.Item, writeUnits(itemSize(input.Item)))];
    case 'UpdateItem':
    case 'DeleteItem':
      return [write(input.Key, 1)];
    case 'GetItem':
      return [read(input.Key, input.ConsistentRead === true ? 1 : 0.5)];
    case 'TransactWriteItems':
      return asArray(input.TransactItems).map((action) => {
        const [kind, body] = Object.entries(action as Input)[0] ?? [];
        const request = (body ?? {}) as Input;
        const units = kind === 'Put' ? writeUnits(itemSize(request.Item)) : 1;
        return write(kind === 'Put' ? request.Item : request.Key, 2 * units);
      });
    case 'TransactGetItems':
      return asArray(input.TransactItems).map((action) => read(((action as Input).Get as Input | undefined)?.Key, 2));
    case 'BatchGetItem':
      return Object.values((input.RequestItems ?? {}) as Record<string, Input>).flatMap((table) =>
        asArray(table.Keys).map((key) => read(key, table.ConsistentRead === true ? 1 : 0.5)),
      );
    case 'BatchWriteItem':
      return Object.values((input.RequestItems ?? {}) as Record<string, unknown[]>).flatMap((requests) =>
        asArray(requests).map((request) => {
          const { PutRequest, DeleteRequest } = request as { PutRequest?: Input; DeleteRequest?: Input };
          return PutRequest ? write(PutRequest.Item, writeUnits(itemSize(PutRequest.Item))) : write(DeleteRequest?.Key, 1);
        }),
      );
    default:
      // Query and Scan cost depends on what they read: only ConsumedCapacity knows. The API never sends them.
      return [];
  }
}

/**
 * The writes a successful call makes to the sweep index (a GSI, functions/data/sweep-index.ts),
 * per index partition key (`sweepIndexKey`). AWS writes a GSI only when the table's write
 * succeeds (the caller passes only those), and bills it apart: adding an entry or removing one
 * is 1 write, changing its sort key 2 (the old entry deleted, the new one put); a KEYS_ONLY
 * entry is under 1 KB, so 1 WCU each, counted as standard writes even inside a transaction (the
 * index is updated after the commit, eventually consistent). A Delete of a reservation is
 * counted as removing an entry and a SET of `sweepAt` as changing one (Stampede only does either
 * to a reservation in the index): upper bounds otherwise.
 */
export function countedIndexWrites(command: string, input: Input): KeyCost[] {
  const operation = operationName(command);
  const actions: [string, Input][] =
    operation === 'TransactWriteItems'
      ? asArray(input.TransactItems).map((action) => (Object.entries(action as Input)[0] ?? ['', {}]) as [string, Input])
      : [[operation.replace(/Item$/, ''), input]];
  return actions.flatMap(([kind, request]) => {
    const units = indexWritesOf(kind, request);
    if (units === 0) return [];
    const shard = kind === 'Put' ? attributeString(request.Item, sweepIndex.partitionKey.name) : reservationShard(request.Key);
    return shard ? [{ pk: sweepIndexKey(shard), access: 'write' as const, units }] : [];
  });
}

/** The capacity meter's name for a partition key of the sweep index, apart from the table's keys. */
export function sweepIndexKey(shard: string): string {
  return `GSI:${sweepIndex.name}:${shard}`;
}

function indexWritesOf(kind: string, request: Input): number {
  if (kind === 'Put') return attributeString(request.Item, sweepIndex.partitionKey.name) ? 1 : 0;
  if (kind === 'Delete') return reservationShard(request.Key) ? 1 : 0;
  if (kind !== 'Update') return 0;
  const expression = String(request.UpdateExpression ?? '');
  const removeAt = expression.search(/\bREMOVE\b/);
  const setClause = removeAt === -1 ? expression : expression.slice(0, removeAt);
  const removeClause = removeAt === -1 ? '' : expression.slice(removeAt);
  if (new RegExp(`\\b${sweepIndex.sortKey.name}\\s*=`).test(setClause)) return 2;
  if (new RegExp(`\\b${sweepIndex.partitionKey.name}\\b`).test(removeClause)) return 1;
  return 0;
}

/** A reservation's index shard, from its key (`RESERVATION#<id>`); undefined for other items. */
function reservationShard(key: unknown): string | undefined {
  const match = /^RESERVATION#(.+)$/.exec(partitionKey(key));
  return match ? sweepShardOf(match[1]!) : undefined;
}

/** `TransactWriteCommand` or `TransactWriteItemsCommand` → `TransactWriteItems`. */
export function operationName(command: string): string {
  const name = command.replace(/Command$/, '');
  const documentClientNames: Record<string, string> = {
    Put: 'PutItem',
    Get: 'GetItem',
    Update: 'UpdateItem',
    Delete: 'DeleteItem',
    TransactWrite: 'TransactWriteItems',
    TransactGet: 'TransactGetItems',
    BatchGet: 'BatchGetItem',
    BatchWrite: 'BatchWriteItem',
  };
  return documentClientNames[name] ?? name;
}

export function isWriteOperation(command: string): boolean {
  return ['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem'].includes(operationName(command));
}

/**
 * The kind of a partition key: its labels with the ids taken out, e.g.
 * `EVENT#e1#SHARD#3` → `EVENT#SHARD`, `RESERVATION#r9` → `RESERVATION`.
 */
export function keyKind(pk: string): string {
  return pk
    .split('#')
    .filter((_, index) => index % 2 === 0)
    .join('#');
}

/** 1 WCU per started KB. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/**
 * Approximate DynamoDB item size: attribute names plus values (strings in UTF-8, numbers
 * about one byte per two digits plus one, maps and lists 3 bytes plus their contents).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function itemSize(item: unknown): number {
  if (!item || typeof item !== 'object') return 0;
  return Object.entries(item as Input).reduce((size, [name, value]) => size + Buffer.byteLength(name) + valueSize(value), 0);
}

function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return Math.ceil(String(value).replace(/[-.]/g, '').length / 2) + 1;
  if (Array.isArray(value)) return 3 + value.reduce((size: number, element) => size + 1 + valueSize(element), 0);
  if (typeof value === 'object') {
    // A marshalled AttributeValue ({"S": "x"}) or a document-client map.
    const entries = Object.entries(value as Input);
    const [tag, inner] = entries[0] ?? [];
    if (entries.length === 1 && tag && ['S', 'N', 'B', 'BOOL', 'NULL'].includes(tag)) return valueSize(inner);
    if (entries.length === 1 && tag === 'M') return valueSize(inner);
    if (entries.length === 1 && tag === 'L') return valueSize(inner);
    return 3 + entries.reduce((size, [name, element]) => size + Buffer.byteLength(name) + 1 + valueSize(element), 0);
  }
  return 0;
}

function write(item: unknown, units: number): KeyCost {
  return { pk: partitionKey(item), access: 'write', units };
}

function read(key: unknown, units: number): KeyCost {
  return { pk: partitionKey(key), access: 'read', units };
}

/** The `pk` attribute, from a document-client item (`"x"`) or a marshalled one (`{"S": "x"}`). */
function partitionKey(item: unknown): string {
  return attributeString(item, 'pk') ?? '?';
}

function attributeString(item: unknown, name: string): string | undefined {
  const value = (item as Input | undefined)?.[name];
  if (typeof value === 'string') return value;
  const marshalled = (value as { S?: unknown } | undefined)?.S;
  return typeof marshalled === 'string' ? marshalled : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
