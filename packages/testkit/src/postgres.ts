import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { containerRuntimeAvailable } from './containerRuntime.ts';
import { cacheDir } from './paths.ts';
import { freePort, startProcess, tail, waitFor, type ManagedProcess } from './processes.ts';

/** A PostgreSQL server the tests can use, and how to let go of it. */
export interface PostgresServer {
  /** Superuser connection string (database `postgres`); test files create their own databases. */
  readonly adminUrl: string;
  /** Where it came from: `DATABASE_URL`, `testcontainers` or `local`. */
  readonly source: 'env' | 'testcontainers' | 'local';
  /** Stops what the harness started; no-op for an external server. */
  stop(): Promise<void>;
  /** Local clusters only: stops the server (fast shutdown) and starts it again on the same port. */
  restart?(): Promise<void>;
}

const MISSING =
  'No PostgreSQL for the tests. Set DATABASE_URL to a server you own, start a container runtime, ' +
  'or install the server binaries: `apt-get install -y postgresql` (PostgreSQL 15+).';

/**
 * Finds or starts PostgreSQL: `DATABASE_URL` if set; else Testcontainers when a container runtime
 * answers; else a throwaway cluster of the machine's PostgreSQL (fsync on) on a free loopback port.
 */
export async function startPostgres(log: (line: string) => void = () => {}): Promise<PostgresServer> {
  const fromEnv = process.env['DATABASE_URL'];
  if (fromEnv !== undefined && fromEnv !== '') {
    await assertReachable(fromEnv);
    log('postgres: using DATABASE_URL');
    return { adminUrl: fromEnv, source: 'env', stop: async () => {} };
  }
  if (await containerRuntimeAvailable()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:16-alpine').start();
    log('postgres: started a Testcontainers PostgreSQL');
    return {
      adminUrl: container.getConnectionUri(),
      source: 'testcontainers',
      stop: async () => {
        await container.stop();
      },
    };
  }
  return await startLocalCluster(log);
}

async function assertReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`DATABASE_URL is set but PostgreSQL does not answer there: ${String(error)}`, {
      cause: error,
    });
  } finally {
    await client.end().catch(() => {});
  }
}

/** The newest `.../bin` folder holding initdb and postgres (Debian keeps them off PATH). */
function findServerBinaries(): string {
  const fromEnv = process.env['PG_BIN'];
  if (fromEnv !== undefined && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest !== undefined) return join(base, newest, 'bin');
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // fall through
  }
  throw new Error(MISSING);
}

/**
 * Starts a throwaway cluster of the machine's PostgreSQL. `name` keeps the log and pid files of
 * several clusters apart (a test may start its own to restart it).
 */
export async function startLocalCluster(
  log: (line: string) => void = () => {},
  name = 'postgres',
): Promise<PostgresServer> {
  const bin = findServerBinaries();
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-pg-'));
  const password = randomBytes(18).toString('hex');
  const port = await freePort();
  // initdb refuses to run as root: run the server as the `postgres` account then.
  const asRoot = userInfo().uid === 0;
  const runAs = (cmd: string): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', cmd]] : [cmd, []];
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dataDir, uid, gid);
  }
  const pwFile = join(tmpdir(), `${dataDir.split('/').pop()}.pw`);
  writeFileSync(pwFile, password, { mode: 0o644 });
  const pgdata = join(dataDir, 'data');
  const [initCmd, initPre] = runAs(join(bin, 'initdb'));
  try {
    execFileSync(
      initCmd,
      [
        ...initPre,
        '-D',
        pgdata,
        '-U',
        'postgres',
        '--auth-host=scram-sha-256',
        '--auth-local=peer',
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--no-instructions',
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    throw new Error(`initdb failed (${bin}): ${String((error as { stderr?: Buffer }).stderr ?? error)}`, {
      cause: error,
    });
  } finally {
    rmSync(pwFile, { force: true });
  }
  const logFile = join(cacheDir('logs'), `${name}.log`);
  const [pgCmd, pgPre] = runAs(join(bin, 'postgres'));
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const launch = async () => {
    const server = startProcess(
      pgCmd,
      [
        ...pgPre,
        '-D',
        pgdata,
        '-c',
        `port=${port}`,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${dataDir}`,
        // Durability as in production: the ledger's ack means fsynced.
        '-c',
        'fsync=on',
        '-c',
        'synchronous_commit=on',
        '-c',
        'max_connections=400',
        '-c',
        'shared_buffers=256MB',
      ],
      // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to leave.
      { logFile, pidFile: join(cacheDir('pids'), `${name}.pid`), stopSignal: 'SIGINT' },
    );
    try {
      await waitFor(
        async () => {
          if (server.child.exitCode !== null) throw new Error('exited');
          const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1_000 });
          try {
            await client.connect();
            await client.query('SELECT 1');
            return true;
          } finally {
            await client.end().catch(() => {});
          }
        },
        {
          timeoutMs: 30_000,
          describe: () => `local PostgreSQL did not become ready on port ${port}; log:\n${tail(logFile)}`,
        },
      );
    } catch (error) {
      await server.stop(2_000);
      throw error;
    }
    return server;
  };
  let server: ManagedProcess;
  try {
    server = await launch();
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  log(`postgres: started local PostgreSQL (${bin}) on 127.0.0.1:${port}`);
  return {
    adminUrl,
    source: 'local',
    stop: async () => {
      await server.stop(10_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
    restart: async () => {
      await server.stop(10_000);
      server = await launch();
    },
  };
}
