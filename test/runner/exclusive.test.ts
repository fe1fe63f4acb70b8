import { describe, expect, it } from 'vitest';
import { ExclusiveGate } from '../../src/runner/exclusive.js';

describe('ExclusiveGate', () => {
  it('runs shared rollouts side by side and exclusive ones alone, without starving them', async () => {
    const gate = new ExclusiveGate();
    const active = new Set<string>();
    const overlaps: string[] = [];
    let maxShared = 0;
    const order: string[] = [];
    const job = async (name: string, exclusive: boolean, ms: number): Promise<void> => {
      const release = await gate.acquire(exclusive);
      order.push(name);
      for (const other of active) if (exclusive || other.startsWith('x')) overlaps.push(`${name}+${other}`);
      active.add(name);
      maxShared = Math.max(maxShared, active.size);
      await new Promise((r) => setTimeout(r, ms));
      active.delete(name);
      release();
    };
    // Shared jobs with exclusive ones queued among them (the gate limits overlap, not concurrency).
    await Promise.all([job('s1', false, 30), job('s2', false, 30), job('x1', true, 20), job('s3', false, 10), job('x2', true, 10), job('s4', false, 10), job('s5', false, 10)]);
    expect(overlaps).toEqual([]);
    expect(maxShared).toBeGreaterThanOrEqual(2); // shared jobs did run side by side
    // x1 waited for s1/s2 only: shared jobs queued after it did not jump ahead.
    expect(order.indexOf('x1')).toBe(2);
  });
});
