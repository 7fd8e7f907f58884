import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { consistentBatchGet, maxBatchGetKeys } from './reads';
import type { Retrier } from './retrier';

type Key = { pk: string; sk: string };

interface Pending {
  readonly key: Key;
  resolve(item: Record<string, unknown> | undefined): void;
  reject(error: unknown): void;
}

/**
 * Strongly consistent single-item reads, coalesced: the reads asked for while the event loop
 * is busy go out together as one BatchGetItem (up to 100 keys) on the next turn. Every read
 * is sent after it was asked for, so an answer is never older than its question.
 *
 * On Lambda (one request at a time) a batch has one key and costs what a GetItem does. In a
 * process serving many buyers at once, such as the local server in a rush, it turns thousands
 * of "does my reservation already exist?" reads on the sold-out path into a few calls.
 */
export class ConsistentGetBatcher {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retrier: Retrier,
  ) {}

  get(key: Key): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const waiting = this.queue;
    this.queue = [];
    for (let start = 0; start < waiting.length; start += maxBatchGetKeys) {
      void this.read(waiting.slice(start, start + maxBatchGetKeys));
    }
  }

  private async read(batch: Pending[]): Promise<void> {
    try {
      // BatchGetItem refuses duplicate keys: ask once per key, answer every caller.
      const unique = new Map(batch.map((pending) => [keyId(pending.key), pending.key]));
      const items = await consistentBatchGet(this.db, this.tableName, [...unique.values()], this.retrier);
      const found = new Map(items.map((item) => [keyId(item as Key), item]));
      for (const pending of batch) pending.resolve(found.get(keyId(pending.key)));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}

function keyId(key: Key): string {
  return `${key.pk}\u0000${key.sk}`;
}
