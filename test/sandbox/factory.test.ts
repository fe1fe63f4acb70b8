// createSandbox: the missing-bwrap and broken-bwrap errors, and mode selection.
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { BWRAP_MISSING, BwrapSandbox, createSandbox, probeBwrap, UnsandboxedSandbox } from '../../src/sandbox/index.js';
import { tempDir } from './helpers.js';

describe('createSandbox', () => {
  it('gives a one-line UserError when bwrap is not on the PATH', async () => {
    const empty = tempDir();
    try {
      const err = await createSandbox('bwrap', { searchPath: empty }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toBe(BWRAP_MISSING);
      expect(BWRAP_MISSING).toContain('apt-get install bubblewrap');
      expect(BWRAP_MISSING).not.toContain('\n');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('gives a one-line UserError when bwrap exists but cannot build a sandbox', async () => {
    const dir = tempDir();
    const fake = join(dir, 'bwrap');
    writeFileSync(fake, '#!/bin/sh\necho "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces." >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    try {
      const err = await probeBwrap(fake).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(/cannot create a sandbox here: bwrap: No permissions/);
      expect((err as Error).message).toContain('--sandbox none');
      expect((err as Error).message).not.toContain('\n');
      await expect(createSandbox('bwrap', { bwrap: fake })).rejects.toBeInstanceOf(UserError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds each mode', async () => {
    expect(await createSandbox('bwrap')).toBeInstanceOf(BwrapSandbox);
    expect(await createSandbox('none')).toBeInstanceOf(UnsandboxedSandbox);
  });
});
