import * as v from 'valibot';
import { type FieldProblem, InvalidRequest } from '../domain/errors';
import { idempotencyKeyHeader, limits } from './schemas';

/**
 * Validate a JSON body against its schema (functions/http/schemas.ts). Every problem is
 * collected, one per field, so one 400 lists all of them; unknown fields are problems too: a
 * typo must not be silently ignored. `null` for an optional field means "not given".
 */
export function parseBody<T extends v.GenericSchema<unknown, Record<string, unknown>>>(schema: T, body: unknown): WithoutNulls<v.InferOutput<T>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequest('The request body must be a JSON object.', [{ field: 'body', problem: 'must be a JSON object' }]);
  }
  const result = v.safeParse(schema, body, { abortPipeEarly: true });
  if (result.success) return withoutNulls(result.output);
  const problems = new Map<string, string>();
  for (const issue of result.issues) {
    const field = v.getDotPath(issue) ?? 'body';
    if (!problems.has(field)) problems.set(field, problemOf(issue));
  }
  throw new InvalidRequest(
    `The request has ${problems.size} invalid field(s).`,
    [...problems].map(([field, problem]): FieldProblem => ({ field, problem })),
  );
}

/** `Idempotency-Key`: optional; when sent it must be a usable key. */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!v.is(idempotencyKeyHeader, value)) {
    const { min, max } = limits.idempotencyKey;
    throw new InvalidRequest(`The Idempotency-Key header must be ${min} to ${max} printable ASCII characters without spaces.`, [
      { field: 'Idempotency-Key', problem: `must be ${min} to ${max} printable ASCII characters` },
    ]);
  }
  return value;
}

/** A body's fields with `null` ("not given") turned into absent. */
export type WithoutNulls<T> = { [K in keyof T]: Exclude<T[K], null> };

function withoutNulls<T extends Record<string, unknown>>(fields: T): WithoutNulls<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null)) as WithoutNulls<T>;
}

function problemOf(issue: v.BaseIssue<unknown>): string {
  if (issue.type === 'strict_object' && issue.expected === 'never') return 'is not a known field';
  if (issue.input === undefined || issue.input === null) return 'is required';
  return issue.message;
}
