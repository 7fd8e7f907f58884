/**
 * `npm run crash-test`: kill the API with SIGKILL in the middle of a race, restart it, and check
 * the books once the sweeper has run. Per strategy: DynamoDB Local stays up (started once, shared);
 * the API is a child process on it; 1,000 buyers race for the tickets; when a third of them have
 * their answer the API is killed (no cleanup, no answers for the rest: holds die between their
 * steps); a new API process starts on the same table; once interrupted holds are due (hold
 * budget + repair margin) and a sweep has run, the audit must be clean: no PENDING left, no
 * ticket lost, every tally right. `queued`: the restarted process's consumer reads the stream from
 * its oldest record and decides what the killed one left; `pessimistic`: a lock the killed API
 * held runs out with its lease. Exits 1 if any audit is not.
 *
 *   npm run crash-test                                  every strategy but the unsafe control
 *   npm run crash-test -- --strategies conditional --buyers 2000 --tickets 500
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type AuditReport, BooksStillChanging } from '../functions/audit/audit-event';
import type { StrategyName } from '../functions/domain/model';
import { defaultOutputDir, readStrategies } from '../load/cli-options';
import { getJson } from '../load/http-json';
import { localIssuer } from '../load/load-test-issuer';
import { auditTable, createEvent } from '../load/measurements';
import { startStackChild } from '../load/stack-child';
import { rushTokens } from '../load/tokens';
import { startDynamoDbLocal } from '../local/dynamodb-local';
import { newPrivateJwk } from '../local/jwt-issuer';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Short, so the experiment takes seconds: an interrupted hold is due 6 s (budget) + 2 s after it began. */
const sweepIntervalMs = 1_000;
const repairMarginMs = 2_000;
const holdBudgetMs = 6_000;

interface Outcome {
  readonly strategy: StrategyName;
  readonly answered: number;
  readonly unanswered: number;
  readonly pendingAtKill: number;
  readonly repaired: number;
  readonly audit: AuditReport;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { strategies: { type: 'string' }, buyers: { type: 'string' }, tickets: { type: 'string' } } });
  const strategies = readStrategies(values.strategies).filter((strategy) => strategy !== 'unsafe');
  const buyers = Number(values.buyers ?? 1_000);
  const tickets = Number(values.tickets ?? 300);
  const outputDir = defaultOutputDir(resolve(__dirname, '..'), 'crash-test');
  mkdirSync(outputDir, { recursive: true });
  const dynamo = await startDynamoDbLocal();
  const outcomes: Outcome[] = [];
  try {
    for (const strategy of strategies) outcomes.push(await crashOnce(strategy, buyers, tickets, dynamo.endpoint, outputDir));
  } finally {
    await dynamo.stop();
  }
  console.log('\nstrategy | answered before the kill | left without an answer | PENDING at the kill | repaired by the sweeper | audit');
  for (const o of outcomes) {
    const verdict =
      o.audit.violations.length === 0 ? 'clean' : `${o.audit.violations.length} violation(s): ${o.audit.violations.map((v) => v.kind).join(', ')}`;
    console.log(
      `${o.strategy} | ${o.answered} | ${o.unanswered} | ${o.pendingAtKill} | ${o.repaired} | ${verdict} (sold ${o.audit.sold}, on sale ${o.audit.remaining}, lost ${o.audit.lost}, still queued ${o.audit.queued})`,
    );
  }
  console.log(`\nLogs: ${outputDir}`);
  return outcomes.every((o) => o.audit.violations.length === 0) ? 0 : 1;
}

async function crashOnce(strategy: StrategyName, buyers: number, tickets: number, endpoint: string, outputDir: string): Promise<Outcome> {
  const tableName = `stampede-crash-${strategy}`;
  const issuerKey = await newPrivateJwk();
  const apiOptions = {
    tableName,
    dynamoDbEndpoint: endpoint,
    allowUnsafe: false,
    outputDir,
    environment: {
      STAMPEDE_LOCAL_ISSUER_KEY: JSON.stringify(issuerKey),
      STAMPEDE_SWEEP_INTERVAL_MS: String(sweepIntervalMs),
      STAMPEDE_REPAIR_MARGIN_MS: String(repairMarginMs),
      STAMPEDE_HOLD_BUDGET_MS: String(holdBudgetMs),
    },
  };
  console.log(`\n=== ${strategy}: ${buyers} buyers for ${tickets} tickets; the API is killed when a third have their answer ===`);
  const first = await startStackChild({ ...apiOptions, logName: `${strategy}-api-before.log` });
  const { url } = first.ready;
  const tokens = await rushTokens(localIssuer(url, issuerKey));
  const event = await createEvent({ url, organizerToken: await tokens.organizer() }, { strategy }, `Crash ${strategy}`, tickets);
  const buyerTokens = await tokens.mint('crash-buyer', buyers);

  let answered = 0;
  let killed = false;
  const killing = new Promise<void>((resolveKill) => {
    const race = buyerTokens.map(async (token) => {
      try {
        const response = await fetch(`${url}/events/${event.eventId}/reservations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
          body: JSON.stringify({ quantity: 1 + Math.floor(Math.random() * 2) }),
        });
        await response.arrayBuffer();
        if (!killed) answered++;
      } catch {
        // Cut off by the kill.
      }
      if (!killed && answered >= buyers / 3) resolveKill();
    });
    void Promise.all(race).then(() => resolveKill());
  });
  await killing;
  killed = true;
  await first.kill();
  const killedAt = Date.now();
  // The killed process's requests already sent still land at DynamoDB Local: audit once they have.
  const atKill = await auditWhenQuiet(() => auditTable(event.eventId, { tableName, endpoint }, sweepIntervalMs, apiOptions.environment));
  console.log(`Killed after ${answered} answers; ${atKill.pendingNotYetDue} hold(s) left PENDING, ${atKill.held} ticket(s) held`);

  const second = await startStackChild({ ...apiOptions, logName: `${strategy}-api-after.log` });
  try {
    // Interrupted holds are due at their start + budget + margin (all began before the kill); then one more sweep.
    const dueBy = killedAt + holdBudgetMs + repairMarginMs + 2 * sweepIntervalMs;
    await new Promise((resolveWait) => setTimeout(resolveWait, Math.max(0, dueBy - Date.now())));
    const sweeps = (await getJson(`${second.ready.url}/_local/sweeper`)) as { repaired: number };
    const audit = (await auditTable(event.eventId, { tableName, endpoint }, sweepIntervalMs, apiOptions.environment)).audit!;
    console.log(
      `After the restart and a sweep: ${sweeps.repaired} repaired; audit ${audit.violations.length === 0 ? 'clean' : JSON.stringify(audit.violations.slice(0, 5))}`,
    );
    return { strategy, answered, unanswered: buyers - answered, pendingAtKill: atKill.pendingNotYetDue, repaired: sweeps.repaired, audit };
  } finally {
    await second.stop();
  }
}

/** The audit refuses books that change under it (a killed process's last writes): ask again a second later, for up to 30 s. */
async function auditWhenQuiet(audit: () => Promise<{ audit?: AuditReport }>): Promise<AuditReport> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await audit()).audit!;
    } catch (error) {
      if (attempt >= 30 || !(error instanceof BooksStillChanging)) throw error;
      await new Promise((resolveWait) => setTimeout(resolveWait, 1_000));
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
