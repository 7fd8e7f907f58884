import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SoldOut } from '../../domain/errors';
import type { Reservation, StrategyName, TicketEvent } from '../../domain/model';
import type { Telemetry } from '../../domain/ports';
import type { InventorySnapshots } from '../inventory/inventory-snapshots';
import type { InventoryView, InventoryViews } from '../inventory/inventory-view';
import { fromReservationItem, reservationKey } from '../items/reservation-item';
import { consistentGet } from '../reads';
import type { Retrier } from '../retrier';

/** What every strategy is built from; one instance of each per process. */
export interface StrategyDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Items one transaction may hold (see StampedeConfig.maxTransactionItems). */
  readonly maxTransactionItems: number;
  readonly retrier: Retrier;
  readonly random: () => number;
  /** Per-event hints about where tickets remain (see InventoryView). */
  readonly views: InventoryViews;
  /** Strongly consistent, single-flight reads of all of an event's shards. */
  readonly snapshots: InventorySnapshots;
  readonly telemetry: Telemetry;
}

/**
 * Read the shards (a snapshot that started after this call) and refuse without writing if
 * fewer than `quantity` tickets remain. Returns the fresh per-shard counts otherwise.
 */
export async function refuseIfSoldOut(
  deps: StrategyDeps,
  strategy: StrategyName,
  event: TicketEvent,
  view: InventoryView,
  quantity: number,
): Promise<number[]> {
  const mark = view.mark();
  const available = await deps.snapshots.latest(event);
  view.replace(available, mark);
  const remaining = available.reduce((sum, count) => sum + count, 0);
  if (remaining < quantity) {
    deps.telemetry.count('SoldOutWithoutWrite', strategy);
    throw new SoldOut(quantity, remaining);
  }
  return available;
}

export async function findReservation(deps: StrategyDeps, reservationId: string): Promise<Reservation | undefined> {
  const item = await consistentGet(deps.db, deps.tableName, reservationKey(reservationId), deps.retrier);
  return item ? fromReservationItem(item) : undefined;
}
