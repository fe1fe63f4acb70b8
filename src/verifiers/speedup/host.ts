// The host's state around a timing measurement, read on the host (not in the sandbox) and recorded
// in the score's details: load averages and the CPU frequency governor, before and after grading.
import fs from 'node:fs';
import os from 'node:os';

export interface HostState {
  /** 1, 5 and 15-minute load averages. */
  load_avg: [number, number, number];
  /** The cpufreq scaling governor(s) of the CPUs ("performance", "powersave"...), or null when the machine exposes none (e.g. a VM). */
  governor: string | null;
  at: string;
}

/** The distinct scaling governors of this machine's CPUs, comma-separated; null when cpufreq is absent. */
export function cpuGovernor(root = '/sys/devices/system/cpu'): string | null {
  let names: string[];
  try {
    names = fs.readdirSync(root).filter((n) => /^cpu\d+$/.test(n));
  } catch {
    return null;
  }
  const seen = new Set<string>();
  for (const n of names) {
    try {
      seen.add(fs.readFileSync(`${root}/${n}/cpufreq/scaling_governor`, 'utf8').trim());
    } catch {
      // no cpufreq for this CPU
    }
  }
  return seen.size ? [...seen].sort().join(',') : null;
}

export function hostState(): HostState {
  const [a, b, c] = os.loadavg();
  const r = (x: number | undefined) => Number((x ?? 0).toFixed(2));
  return { load_avg: [r(a), r(b), r(c)], governor: cpuGovernor(), at: new Date().toISOString() };
}
