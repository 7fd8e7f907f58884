import { type AuditReport, auditEvent } from '../../functions/audit/audit-event';
import type { TestApp } from './test-app';

/** The same audit `npm run audit` runs, on the test's table. */
export function audit(app: TestApp, eventId: string): Promise<AuditReport> {
  return auditEvent(app.db, app.config.tableName, eventId, app.clock.now());
}
