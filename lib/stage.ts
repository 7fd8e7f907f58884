/**
 * A stage is one deployed copy of Stampede (`npx cdk deploy -c stage=<name>`): its own stack,
 * table, functions and API. Two kinds:
 *
 * - **sandbox** (any name by default): throwaway. `cdk destroy` deletes the table and the logs
 *   with it; no deletion protection.
 * - **protected** (the names in `protectedStageNames` always; any other stage while it is
 *   deployed with `-c protected=true`): the table has deletion protection and is retained if
 *   the stack is deleted, and so are the log groups. Deleting its data takes a deliberate
 *   manual step. Add long-lived stages to `protectedStageNames` rather than relying on the flag.
 *   Options that only a throwaway copy may use (the load-test token issuer) are refused on it:
 *   see requireSandboxStage.
 */
export interface StageSettings {
  readonly name: string;
  readonly protected: boolean;
}

/** Stages that are always protected, whatever the context says. */
const protectedStageNames: readonly string[] = ['prod', 'production'];

const namePattern = /^[a-z][a-z0-9-]{0,18}[a-z0-9]$/;

const nameRule = "2-20 characters: lowercase letters, digits and '-', starting with a letter and not ending with '-'";

/** A missing or malformed `-c key=value`: the CLI shows its message, not a stack trace. */
export class ContextError extends Error {
  override readonly name = 'ContextError';
}

/** Reads the CDK context values `stage` and `protected`; a bad or missing value throws a ContextError. */
export function stageFromContext(tryGetContext: (key: string) => unknown): StageSettings {
  const name = tryGetContext('stage');
  if (name === undefined || name === '') {
    throw new ContextError(`No stage given. Name the copy of Stampede to work on with '-c stage=<name>' (${nameRule}), e.g. 'npx cdk deploy -c stage=alice'.`);
  }
  if (typeof name !== 'string' || !namePattern.test(name)) {
    throw new ContextError(`Invalid stage '${String(name)}': a stage name has ${nameRule}.`);
  }
  const flag = parseBoolean(tryGetContext('protected'));
  return { name, protected: protectedStageNames.includes(name) || flag };
}

/** Options only a sandbox stage may use, each with the reason a protected stage refuses it. */
const sandboxOnlyOptions = {
  loadTestIssuerJwk:
    'whoever holds the load-test private key can sign a token for any buyer or organizer, and the stage would trust it. ' +
    'A load-test stage is for rushes; real users use a stage that trusts a real issuer.',
  jwtIssuer:
    "names a sandbox stage's load-test issuer (its path or its audience): whoever holds that stage's load-test private key " +
    'could sign a token for any buyer or organizer here. Trust a real issuer.',
} as const;

/** Refuses, on a protected stage, an option only a throwaway copy may use, saying why. */
export function requireSandboxStage(stage: StageSettings, option: keyof typeof sandboxOnlyOptions): void {
  if (stage.protected) throw new ContextError(`'-c ${option}' is refused on the protected stage '${stage.name}': ${sandboxOnlyOptions[option]}`);
}

/** CLI context values arrive as strings; cdk.json or tests may pass real booleans. */
function parseBoolean(value: unknown): boolean {
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new ContextError(`Invalid '-c protected=${String(value)}': use true or false.`);
}
