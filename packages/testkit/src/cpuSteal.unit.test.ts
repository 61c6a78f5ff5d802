import { describe, expect, it } from 'vitest';
import { cpuShares, cpuTimes, parseProcStat } from './cpuSteal.ts';

const stat = (user: number, idle: number, steal: number) =>
  `cpu  ${user} 0 100 ${idle} 10 0 5 ${steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1 2 3\n`;

describe('CPU steal from /proc/stat', () => {
  it('reads the all-cores line: idle, steal and the total of the first eight counters', () => {
    expect(parseProcStat(stat(1000, 5000, 300))).toEqual({ steal: 300, idle: 5000, total: 6415 });
  });

  it('takes a kernel without a steal counter as no steal, and text without a cpu line as nothing', () => {
    expect(parseProcStat('cpu  10 0 10 80 0 0 0\n')).toEqual({ steal: 0, idle: 80, total: 100 });
    expect(parseProcStat('intr 1 2 3\n')).toBeNull();
  });

  it('gives the shares of the time between two readings', () => {
    const from = parseProcStat(stat(1000, 5000, 300));
    const to = parseProcStat(stat(1400, 5300, 600)); // +400 user, +300 idle, +300 steal = 1000 ticks
    expect(cpuShares(from, to)).toEqual({ stealPercent: 30, idlePercent: 30 });
    expect(cpuShares(to, to)).toBeNull();
    expect(cpuShares(null, to)).toBeNull();
  });

  it('reads this machine (Linux) or says it cannot', () => {
    const now = cpuTimes();
    if (process.platform === 'linux') expect(now?.total).toBeGreaterThan(0);
    else expect(now).toBeNull();
  });
});
