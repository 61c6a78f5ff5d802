// CPU used by the processes of a benchmark, from /proc (Linux): what each part of the system costs
// per unit of work, next to the rate.
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // After "pid (comm) ": state is field 3, utime 14, stime 15 (in 1/100 s).
    const at = (n: number): number => Number(fields[n - 3] ?? 0);
    return (at(14) + at(15)) / 100;
  } catch {
    return 0;
  }
}

/** Processes as (pid, command line), read from /proc. */
function processes(): { pid: number; cmdline: string }[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        return [
          { pid: Number(d), cmdline: readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ') },
        ];
      } catch {
        return [];
      }
    });
}

/**
 * CPU seconds of this bench's PostgreSQL work: the backends connected to its database (the
 * server is shared, other databases are someone else's) plus the server's own background
 * processes (WAL writer, checkpointer, ...), which serve everyone.
 */
export function postgresCpu(database: string): number {
  return processes()
    .filter(
      ({ cmdline }) =>
        cmdline.startsWith('postgres: ') &&
        (cmdline.includes(` ${database} `) || !/\d+\.\d+\.\d+\.\d+\(\d+\)/.test(cmdline)),
    )
    .reduce((sum, { pid }) => sum + cpuSeconds(pid), 0);
}

/** CPU seconds of the Kafka broker listening on `broker` (other brokers may run on the machine). */
export function kafkaCpu(broker: string): number {
  const port = broker.split(':').at(-1) ?? '';
  return processes()
    .filter(({ cmdline }) => cmdline.includes('kafka.Kafka '))
    .filter(({ cmdline }) => {
      try {
        const properties = readFileSync(cmdline.trim().split(' ').at(-1) ?? '', 'utf8');
        return new RegExp(`^listeners=.*:${port}(,|$)`, 'm').test(properties);
      } catch {
        return false;
      }
    })
    .reduce((sum, { pid }) => sum + cpuSeconds(pid), 0);
}

/** CPU seconds of every process whose command line contains `fragment` (e.g. a service and its workers). */
export function commandCpu(fragment: string): number {
  return processes()
    .filter(({ cmdline }) => cmdline.includes(fragment))
    .reduce((sum, { pid }) => sum + cpuSeconds(pid), 0);
}
