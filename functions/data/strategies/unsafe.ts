import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BuyerLimitExceeded, SoldOut } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { buyerTallyKey, overwriteBuyerTally } from '../items/buyer-tally-item';
import { fromInventoryItem, inventoryKey, overwriteAvailable } from '../items/inventory-item';
import { fromReservationItem, reservationKey, toReservationItem } from '../items/reservation-item';
import type { StrategyDeps } from './strategy-deps';

/**
 * `unsafe`: THE POSITIVE CONTROL. Check-then-act with no conditions: read the count, decide
 * in code, write the result. Two buyers who read the same count both "win" and the event
 * oversells; the tests and benchmarks use it to prove they can see an oversell.
 * Refused unless the process runs with STAMPEDE_ALLOW_UNSAFE=1. Never use it for a sale.
 */
export class UnsafeStrategy implements ReservationStrategy {
  readonly name = 'unsafe' as const;

  constructor(private readonly deps: StrategyDeps) {}

  async hold(event: TicketEvent, request: HoldRequest): Promise<HoldOutcome> {
    const { db, tableName } = this.deps;
    const get = async (Key: Record<string, unknown>) => (await db.send(new GetCommand({ TableName: tableName, Key }))).Item;

    const existing = await get(reservationKey(request.reservationId));
    if (existing) return { kind: 'existing', reservation: fromReservationItem(existing) };

    // Check...
    const inventory = fromInventoryItem((await get(inventoryKey(event.eventId, 0)))!);
    if (inventory.available < request.quantity) throw new SoldOut(request.quantity, inventory.available);
    const tickets = Number((await get(buyerTallyKey(event.eventId, request.buyerId)))?.tickets ?? 0);
    if (tickets + request.quantity > event.maxPerBuyer) throw new BuyerLimitExceeded(event.maxPerBuyer, tickets);

    // ...then act, on what may no longer be true.
    await db.send(new UpdateCommand(overwriteAvailable(tableName, event.eventId, inventory.available - request.quantity)));
    await db.send(new PutCommand(overwriteBuyerTally(tableName, event.eventId, request.buyerId, tickets + request.quantity)));
    const item = toReservationItem(event.eventId, request, [{ shard: 0, quantity: request.quantity }]);
    await db.send(new PutCommand({ TableName: tableName, Item: item }));
    return { kind: 'created', reservation: fromReservationItem(item) };
  }
}
