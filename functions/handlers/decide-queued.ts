import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { type App, defaultApp } from '../app';
import { fromQueueEntryItem } from '../data/items/queue-entry-item';
import type { Delivered } from '../domain/queue-consumer';

/**
 * The `queued` strategy's consumer, fed by the table's stream: on AWS a Lambda event source
 * mapping (filtered to new log entries, bisecting on error, reporting partial failures); under
 * `npm start` a poller of DynamoDB Local's stream calls this same handler with the same event.
 * Answers the first entry it could not decide, so the stream delivers it (and what follows) again.
 */
export function createHandler(app: App) {
  return async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
    if (context) app.log.addContext?.(context);
    const delivered: Delivered[] = [];
    for (const record of event.Records) {
      const image = record.dynamodb?.NewImage;
      const position = record.dynamodb?.SequenceNumber;
      if (record.eventName !== 'INSERT' || !image || !position) continue;
      const request = fromQueueEntryItem(unmarshall(image as Record<string, AttributeValue>));
      if (request) delivered.push({ request, position });
      else app.log.warn('A stream record that is no queued request; skipped', { position });
    }
    const report = await app.queueConsumer.consume(delivered);
    app.telemetry.flush?.();
    if (report.held + report.rejected > 0) app.log.info('Decided queued requests', { ...report });
    return { batchItemFailures: report.failedAt === undefined ? [] : [{ itemIdentifier: report.failedAt }] };
  };
}

export const handler = createHandler(defaultApp());
