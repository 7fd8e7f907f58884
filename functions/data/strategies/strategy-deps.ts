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
  /** How old a read may be for a sold-out answer (StampedeConfig.soldOutStalenessMs). */
  readonly soldOutStalenessMs: number;
  readonly telemetry: Telemetry;
}

/**
 * Read the shards (a snapshot at most `soldOutStalenessMs` old) and refuse without writing if
 * fewer than `quantity` tickets remain. Returns the per-shard counts otherwise.
 */
export async function refuseIfSoldOut(
  deps: StrategyDeps,
  strategy: StrategyName,
  event: TicketEvent,
  view: InventoryView,
  quantity: number,
): Promise<readonly number[]> {
  const mark = view.mark();
  let snapshot = await deps.snapshots.latest(event, deps.soldOutStalenessMs);
  // A read from before this call may refuse (it is within the bound), but tickets it shows may
  // be gone since: only a read that started after this call decides to write.
  if (!snapshot.startedAfterAsking && total(snapshot.available) >= quantity) snapshot = await deps.snapshots.latest(event, 0);
  if (snapshot.startedAfterAsking) view.replace(snapshot.available, mark);
  const remaining = total(snapshot.available);
  if (remaining < quantity) {
    deps.telemetry.count('SoldOutWithoutWrite', strategy);
    throw new SoldOut(quantity, remaining);
  }
  return snapshot.available;
}

export async function findReservation(deps: StrategyDeps, reservationId: string): Promise<Reservation | undefined> {
  const item = await consistentGet(deps.db, deps.tableName, reservationKey(reservationId), deps.retrier);
  return item ? fromReservationItem(item) : undefined;
}

function total(counts: readonly number[]): number {
  return counts.reduce((sum, count) => sum + count, 0);
}
