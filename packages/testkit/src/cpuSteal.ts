import { readFileSync } from 'node:fs';

/** The machine's CPU time counters (all cores, in clock ticks) from the `cpu` line of /proc/stat. */
export interface CpuTimes {
  /** Time the hypervisor ran other guests while this one wanted the CPU. */
  readonly steal: number;
  readonly idle: number;
  /** user + nice + system + idle + iowait + irq + softirq + steal. */
  readonly total: number;
}

/** Parses /proc/stat's text; null when it has no `cpu` line. */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return null;
  // user nice system idle iowait irq softirq [steal]: kernels before 2.6.11 have no steal.
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 7 || fields.some((v) => !Number.isFinite(v))) return null;
  const [, , , idle = 0, , , , steal = 0] = fields;
  return { steal, idle, total: fields.reduce((a, b) => a + b, 0) };
}

/** The counters now; null where there is no /proc/stat (not Linux). */
export function cpuTimes(): CpuTimes | null {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Shares of the machine's CPU time between two readings that went to other guests (steal) and
 * to nobody (idle), in percent; null when either reading is missing or no time passed.
 */
export function cpuShares(
  from: CpuTimes | null,
  to: CpuTimes | null,
): { stealPercent: number; idlePercent: number } | null {
  if (from === null || to === null || to.total <= from.total) return null;
  const total = to.total - from.total;
  return {
    stealPercent: (100 * (to.steal - from.steal)) / total,
    idlePercent: (100 * (to.idle - from.idle)) / total,
  };
}
