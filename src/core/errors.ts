// Errors a user can cause and fix. The CLI prints their message as one line and exits non-zero,
// without a stack trace. Anything that is not a UserError is a bug and is reported as one.

export class UserError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** True when the error is a user mistake with a ready one-line message. */
export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** Collapse whitespace so a message stays on one line. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
