/**
 * How many tickets one buyer holds or bought for one event.
 * Item: pk `EVENT#<eventId>#BUYER#<buyerId>`, sk `TALLY`. One item per buyer, so buyers do
 * not contend with each other; the limit is a condition on this item, never a read in code.
 */
export const buyerTallyItemType = 'BuyerTally';

export function buyerTallyKey(eventId: string, buyerId: string) {
  return { pk: `EVENT#${eventId}#BUYER#${buyerId}`, sk: 'TALLY' };
}

export interface BuyerTally {
  readonly eventId: string;
  readonly buyerId: string;
  readonly tickets: number;
}

export function fromBuyerTallyItem(item: Record<string, unknown>): BuyerTally {
  return { eventId: String(item.eventId), buyerId: String(item.buyerId), tickets: Number(item.tickets ?? 0) };
}

const names = { '#tickets': 'tickets', '#type': 'type', '#eventId': 'eventId', '#buyerId': 'buyerId' };

/** Count `quantity` more tickets for the buyer, only if that keeps them within `maxPerBuyer`. */
export function addToBuyerTally(tableName: string, eventId: string, buyerId: string, quantity: number, maxPerBuyer: number) {
  return {
    TableName: tableName,
    Key: buyerTallyKey(eventId, buyerId),
    UpdateExpression: 'SET #type = :type, #eventId = :eventId, #buyerId = :buyerId ADD #tickets :quantity',
    ConditionExpression: 'attribute_not_exists(#tickets) OR #tickets <= :ceiling',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: {
      ':type': buyerTallyItemType,
      ':eventId': eventId,
      ':buyerId': buyerId,
      ':quantity': quantity,
      ':ceiling': maxPerBuyer - quantity,
    },
  };
}

/**
 * Stop counting tickets the buyer gave back (release, expiry, or an undone hold). No condition:
 * giving tickets back must never fail. It names the item's type, event and buyer too, so that a
 * subtraction that should not have happened (no tally to take from) leaves an item the audit
 * finds (a tally below the buyer's reservations), not one its scan cannot see.
 */
export function subtractFromBuyerTally(tableName: string, eventId: string, buyerId: string, quantity: number) {
  return {
    TableName: tableName,
    Key: buyerTallyKey(eventId, buyerId),
    UpdateExpression: 'SET #type = :type, #eventId = :eventId, #buyerId = :buyerId ADD #tickets :negative',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':type': buyerTallyItemType, ':eventId': eventId, ':buyerId': buyerId, ':negative': -quantity },
  };
}

/** THE UNSAFE CONTROL'S WRITE: store a tally computed in code, with no condition. Only `unsafe` uses it. */
export function overwriteBuyerTally(tableName: string, eventId: string, buyerId: string, tickets: number) {
  return { TableName: tableName, Item: { ...buyerTallyKey(eventId, buyerId), type: buyerTallyItemType, eventId, buyerId, tickets } };
}
