import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { openSync, closeSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';

/** Asks the kernel for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}

/**
 * `count` distinct free loopback ports. Each probe socket stays open until all are bound, so the
 * kernel cannot hand the same port out twice (two `freePort()` calls in a row can: a broker once
 * got its client and controller listeners on one port and refused to start).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(await listenOnAnyPort(server));
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

async function listenOnAnyPort(server: Server): Promise<number> {
  return await new Promise((resolve, reject) => {
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address !== null && typeof address === 'object') resolve(address.port);
      else reject(new Error('could not read the port of a probe socket'));
    });
  });
}

/** Polls `check` until it returns true or the deadline passes; throws `describe()` on timeout. */
export async function waitFor(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; describe: () => string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(options.describe());
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}

/** A background server process the harness started and must stop. */
export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Stops the process (SIGTERM, then SIGKILL after `graceMs`) and removes its pid file. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a long-running server in its own process group with output to `logFile`, and records
 * its pid in `pidFile` so that a later run can reap it if this one was killed before teardown.
 */
export function startProcess(
  command: string,
  args: readonly string[],
  options: {
    logFile: string;
    pidFile: string;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    stopSignal?: NodeJS.Signals;
  },
): ManagedProcess {
  const pidFile = reapStale(options.pidFile);
  const out = openSync(options.logFile, 'w');
  const child = spawn(command, args, {
    stdio: ['ignore', out, out],
    detached: true,
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  closeSync(out);
  // The pid file names the server and the process that owns it: a later run reaps the server only
  // if its owner is gone (a crashed run), never one that another live run is still using.
  if (child.pid !== undefined) writeFileSync(pidFile, `${child.pid} ${process.pid}`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // Last resort if teardown never runs (the test runner crashed): no orphan servers.
  const onExit = (): void => kill('SIGKILL');
  process.once('exit', onExit);
  return {
    child,
    logFile: options.logFile,
    async stop(graceMs = 10_000) {
      process.off('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) {
        kill(options.stopSignal ?? 'SIGTERM');
        const timer = setTimeout(() => kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      rmSync(pidFile, { force: true });
    },
  };
}

/** True when a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Kills the process group recorded in `pidFile` by an earlier run that did not clean up (its
 * owner process is dead). A server whose owner is alive belongs to a concurrent run: left alone,
 * and this run uses its own pid file next to it.
 */
function reapStale(pidFile: string): string {
  if (!existsSync(pidFile)) return pidFile;
  const [pid, owner] = readFileSync(pidFile, 'utf8').trim().split(/\s+/).map(Number);
  if (owner !== undefined && Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
    return `${pidFile}.${process.pid}`;
  }
  if (pid !== undefined && Number.isInteger(pid) && pid > 1) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // not running any more
    }
  }
  rmSync(pidFile, { force: true });
  return pidFile;
}

/** Last `lines` lines of a log file, for error messages. */
export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
