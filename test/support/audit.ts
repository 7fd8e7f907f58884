import { type AuditOptions, type AuditReport, auditEvent, processLimits } from '../../functions/audit/audit-event';
import type { TestApp } from './test-app';

/** The same audit `npm run audit` runs, on the test's table, with the app's own limits. */
export function audit(app: TestApp, eventId: string, options: AuditOptions = {}): Promise<AuditReport> {
  return auditEvent(app.db, app.config.tableName, eventId, app.clock.now(), { ...processLimits(app.config), ...options });
}
