import { InvalidRequest, type FieldProblem } from '../domain/errors';

/**
 * Reads a JSON object field by field and collects every problem, so one 400 response lists
 * all of them. Unknown fields are problems too: a typo must not be silently ignored.
 */
export class BodyReader {
  private readonly problems: FieldProblem[] = [];
  private readonly body: Record<string, unknown>;
  private readonly seen = new Set<string>();

  constructor(body: unknown) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new InvalidRequest('The request body must be a JSON object.', [{ field: 'body', problem: 'must be a JSON object' }]);
    }
    this.body = body as Record<string, unknown>;
  }

  requiredString(field: string, limits: { min: number; max: number }): string {
    return this.string(field, limits, true) as string;
  }

  optionalString(field: string, limits: { min: number; max: number }): string | undefined {
    return this.string(field, limits, false);
  }

  requiredInteger(field: string, limits: { min: number; max: number }): number {
    return this.integer(field, limits, true) as number;
  }

  optionalInteger(field: string, limits: { min: number; max: number }): number | undefined {
    return this.integer(field, limits, false);
  }

  optionalChoice<T extends string>(field: string, choices: readonly T[]): T | undefined {
    const value = this.take(field);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !choices.includes(value as T)) {
      this.problems.push({ field, problem: `must be one of: ${choices.join(', ')}` });
      return undefined;
    }
    return value as T;
  }

  /** Throws one InvalidRequest listing every problem found, unknown fields included. */
  finish(): void {
    for (const field of Object.keys(this.body)) {
      if (!this.seen.has(field)) this.problems.push({ field, problem: 'is not a known field' });
    }
    if (this.problems.length > 0) {
      throw new InvalidRequest(`The request has ${this.problems.length} invalid field(s).`, this.problems);
    }
  }

  private string(field: string, { min, max }: { min: number; max: number }, required: boolean): string | undefined {
    const value = this.take(field);
    if (value === undefined) return this.missing(field, required);
    if (typeof value !== 'string') return this.problem(field, 'must be a string');
    if (value.trim().length === 0 && min > 0) return this.problem(field, 'must not be blank');
    // Control characters in ids and names only ever come from bugs or attacks.
    if (/[\u0000-\u001f\u007f]/.test(value)) return this.problem(field, 'must not contain control characters');
    const length = [...value].length;
    if (length < min || length > max) return this.problem(field, `must be ${min} to ${max} characters long`);
    return value;
  }

  private integer(field: string, { min, max }: { min: number; max: number }, required: boolean): number | undefined {
    const value = this.take(field);
    if (value === undefined) return this.missing(field, required);
    if (typeof value !== 'number' || !Number.isInteger(value)) return this.problem(field, 'must be an integer');
    if (value < min || value > max) return this.problem(field, `must be between ${min} and ${max}`);
    return value;
  }

  private take(field: string): unknown {
    this.seen.add(field);
    const value = this.body[field];
    return value === null ? undefined : value;
  }

  private missing(field: string, required: boolean): undefined {
    if (required) this.problems.push({ field, problem: 'is required' });
    return undefined;
  }

  private problem(field: string, problem: string): undefined {
    this.problems.push({ field, problem });
    return undefined;
  }
}

/** `Idempotency-Key`: optional, 1..128 printable ASCII characters. */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length < 1 || value.length > 128 || !/^[\x21-\x7e]+$/.test(value)) {
    throw new InvalidRequest('The Idempotency-Key header must be 1 to 128 printable ASCII characters without spaces.', [
      { field: 'Idempotency-Key', problem: 'must be 1 to 128 printable ASCII characters' },
    ]);
  }
  return value;
}
