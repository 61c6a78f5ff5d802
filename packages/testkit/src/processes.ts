import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { openSync, closeSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';

/** Asks the kernel for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of a probe socket'));
      });
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
  reapStale(options.pidFile);
  const out = openSync(options.logFile, 'w');
  const child = spawn(command, args, {
    stdio: ['ignore', out, out],
    detached: true,
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  closeSync(out);
  if (child.pid !== undefined) writeFileSync(options.pidFile, String(child.pid));
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
      rmSync(options.pidFile, { force: true });
    },
  };
}

/** Kills the process group recorded in `pidFile` by an earlier run that did not clean up. */
function reapStale(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 1) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // not running any more
    }
  }
  rmSync(pidFile, { force: true });
}

/** Last `lines` lines of a log file, for error messages. */
export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
