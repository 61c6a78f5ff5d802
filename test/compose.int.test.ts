import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { parse } from 'yaml';
import { checkCompose, checkDockerfile, type ServiceSpec } from './composeCheck.ts';

// There is no Docker engine here: these checks keep docker-compose.yml and the Dockerfile in step
// with the services/ folders and the toolchain pins instead.

const root = fileURLToPath(new URL('..', import.meta.url));

/** Every services/<name> with a src/config.ts. */
function serviceFolders(): string[] {
  return readdirSync(join(root, 'services'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'services', d.name, 'src', 'config.ts')))
    .map((d) => d.name)
    .sort();
}

/** Every service folder and the variables its config requires (its `requiredEnvironment`). */
async function serviceSpecs(): Promise<ServiceSpec[]> {
  const specs: ServiceSpec[] = [];
  for (const name of serviceFolders()) {
    const config = join(root, 'services', name, 'src', 'config.ts');
    const mod = (await import(pathToFileURL(config).href)) as { requiredEnvironment?: unknown };
    const required = mod.requiredEnvironment;
    if (!Array.isArray(required) || !required.every((v) => typeof v === 'string'))
      throw new Error(`services/${name}/src/config.ts must export requiredEnvironment: readonly string[]`);
    specs.push({ name, requiredEnvironment: required as string[] });
  }
  return specs;
}

const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** A compose file with one correct service, `svc`; the fixtures below break it one way each. */
const good = `
services:
  postgres:
    image: postgres:16-alpine
    command: ['postgres', '-c', 'fsync=on']
    healthcheck: { test: ['CMD-SHELL', 'pg_isready'] }
  kafka:
    image: apache/kafka:4.1.1
    environment: { KAFKA_PROCESS_ROLES: 'broker,controller', KAFKA_LOG_DIRS: /var/lib/kafka/data, KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false' }
    volumes: ['kafkadata:/var/lib/kafka/data']
    healthcheck: { test: ['CMD-SHELL', 'true'] }
  svc:
    build: { context: ., dockerfile: Dockerfile, args: { SERVICE: svc } }
    environment: { DATABASE_URL: 'postgres://x', SECRET: '\${SECRET:?set SECRET}', PORT: 8080 }
    depends_on: { postgres: { condition: service_healthy }, kafka: { condition: service_healthy } }
    healthcheck: { test: ['CMD', 'true'] }
`;
const svc: ServiceSpec = { name: 'svc', requiredEnvironment: ['DATABASE_URL', 'SECRET'] };

/** `good` with one exact piece of text replaced (failing loudly if the piece is not there). */
function broken(find: string, replace: string): string {
  if (!good.includes(find)) throw new Error(`fixture has no ${find}`);
  return good.replace(find, replace);
}

const goodDockerfile = `
FROM node:24-slim AS deps
RUN npm install -g pnpm@10.34.8
RUN pnpm install --frozen-lockfile --prod
FROM node:24-slim
ARG SERVICE
USER node
CMD ["sh", "-c", "exec node services/\${SERVICE}/src/main.ts"]
`;
const toolchain = { pnpmVersion: '10.34.8', nodeMajor: 24 };

describe('docker-compose.yml', () => {
  it('has an entry for every service folder, with the environment its config requires', async () => {
    const specs = await serviceSpecs();
    expect(specs.map((s) => s.name)).toContain('api');
    expect(checkCompose(read('docker-compose.yml'), specs)).toEqual([]);
  });

  it('every service folder with a config has the src/main.ts the Dockerfile runs', () => {
    const missing = serviceFolders().filter(
      (name) => !existsSync(join(root, 'services', name, 'src', 'main.ts')),
    );
    expect(missing).toEqual([]);
  });

  it('accepts a correct file', () => {
    expect(checkCompose(good, [svc])).toEqual([]);
    // The list forms of environment and build args are accepted too.
    const lists = good
      .replace('args: { SERVICE: svc }', 'args: [SERVICE=svc]')
      .replace(
        "environment: { DATABASE_URL: 'postgres://x', SECRET: '${SECRET:?set SECRET}', PORT: 8080 }",
        'environment: [DATABASE_URL=postgres://x, SECRET]',
      );
    expect(checkCompose(lists, [svc])).toEqual([]);
  });

  it('reports a service folder without an entry', () => {
    expect(checkCompose(good, [svc, { name: 'other', requiredEnvironment: [] }])).toEqual([
      'other: no entry in docker-compose.yml',
    ]);
  });

  it('reports a missing required variable', () => {
    expect(
      checkCompose(good, [{ ...svc, requiredEnvironment: [...svc.requiredEnvironment, 'KAFKA_BROKERS'] }]),
    ).toEqual(['svc: environment lacks KAFKA_BROKERS']);
  });

  it('reports a service without a healthcheck', () => {
    expect(checkCompose(broken("healthcheck: { test: ['CMD', 'true'] }", ''), [svc])).toEqual([
      'svc: no healthcheck',
    ]);
    expect(checkCompose(broken("test: ['CMD', 'true']", "test: ['NONE']"), [svc])).toEqual([
      'svc: no healthcheck',
    ]);
  });

  it('reports a stale entry (built, but no service folder)', () => {
    expect(checkCompose(good, [])).toEqual(['svc: built, but there is no services/svc with a config']);
  });

  it('reports a wrong build', () => {
    const message = 'svc: must build from context . with Dockerfile and args.SERVICE=svc';
    expect(checkCompose(broken('SERVICE: svc', 'SERVICE: api'), [svc])).toEqual([message]);
    expect(checkCompose(broken('dockerfile: Dockerfile', 'dockerfile: Dockerfile.dev'), [svc])).toEqual([
      message,
    ]);
    expect(checkCompose(broken('context: .', 'context: services/svc'), [svc])).toEqual([message]);
  });

  it('reports a service that does not wait for healthy PostgreSQL and Kafka', () => {
    expect(checkCompose(broken(', kafka: { condition: service_healthy }', ''), [svc])).toEqual([
      'svc: does not depend on kafka',
    ]);
    expect(
      checkCompose(
        broken('postgres: { condition: service_healthy }', 'postgres: { condition: service_started }'),
        [svc],
      ),
    ).toEqual(['svc: must wait for postgres with condition service_healthy']);
    expect(
      checkCompose(
        broken(
          'depends_on: { postgres: { condition: service_healthy }, kafka: { condition: service_healthy } }',
          'depends_on: [postgres, kafka]',
        ),
        [svc],
      ),
    ).toEqual([
      'svc: must wait for postgres with condition service_healthy',
      'svc: must wait for kafka with condition service_healthy',
    ]);
  });

  it('reports an unquoted boolean, which compose refuses as an environment value', () => {
    expect(
      checkCompose(
        broken("KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false'", 'KAFKA_AUTO_CREATE_TOPICS_ENABLE: false'),
        [svc],
      ),
    ).toEqual(['kafka: environment KAFKA_AUTO_CREATE_TOPICS_ENABLE must be a string or a number (quote it)']);
  });

  it('reports PostgreSQL older than 16, without a healthcheck, or with fsync off', () => {
    expect(checkCompose(broken('postgres:16-alpine', 'postgres:14'), [svc])).toEqual([
      'postgres: needs an image postgres:16 or newer',
    ]);
    expect(checkCompose(broken('postgres:16-alpine', 'postgres:latest'), [svc])).toEqual([
      'postgres: needs an image postgres:16 or newer',
    ]);
    expect(checkCompose(broken('postgres:16-alpine', 'postgres:18'), [svc])).toEqual([]);
    expect(checkCompose(broken("test: ['CMD-SHELL', 'pg_isready']", ''), [svc])).toEqual([
      'postgres: no healthcheck',
    ]);
    expect(checkCompose(broken("'fsync=on'", "'fsync=off'"), [svc])).toEqual([
      'postgres: fsync and synchronous_commit must stay on (a 2xx means durable)',
    ]);
  });

  it('reports Kafka that is not the official image, not KRaft, without a healthcheck, or without its data on a volume', () => {
    expect(checkCompose(broken('apache/kafka:4.1.1', 'bitnami/kafka:4.0'), [svc])).toEqual([
      'kafka: needs the official apache/kafka image',
    ]);
    expect(checkCompose(broken("'broker,controller'", 'broker'), [svc])).toEqual([
      'kafka: not in KRaft mode (KAFKA_PROCESS_ROLES lacks controller)',
    ]);
    expect(checkCompose(broken("test: ['CMD-SHELL', 'true']", ''), [svc])).toEqual(['kafka: no healthcheck']);
    expect(
      checkCompose(broken('KAFKA_LOG_DIRS: /var/lib/kafka/data', 'KAFKA_LOG_DIRS: /tmp/kraft'), [svc]),
    ).toEqual(['kafka: KAFKA_LOG_DIRS must be on a volume (the image defaults to /tmp)']);
    expect(checkCompose(broken("volumes: ['kafkadata:/var/lib/kafka/data']", ''), [svc])).toEqual([
      'kafka: KAFKA_LOG_DIRS must be on a volume (the image defaults to /tmp)',
    ]);
  });
});

describe('docker-compose.yml database roles', () => {
  it('runs every service as a member of ledger_app only, migrating as the owner', () => {
    const compose = parse(read('docker-compose.yml')) as {
      services: Record<string, { environment?: Record<string, string>; volumes?: string[] }>;
    };
    const postgres = compose.services['postgres'];
    const owner = postgres?.environment?.['POSTGRES_USER'];
    const init = (postgres?.volumes ?? []).find((v) => v.includes('/docker-entrypoint-initdb.d/'));
    expect(init).toBeDefined();
    const roles = read((init as string).split(':')[0] as string);
    const login = /CREATE ROLE (\w+) LOGIN PASSWORD '([^']+)' IN ROLE ledger_app;/.exec(roles);
    expect(login, 'the init script creates a login role in ledger_app').not.toBeNull();
    const [, user, password] = login as RegExpExecArray;
    for (const name of serviceFolders()) {
      const env = compose.services[name]?.environment ?? {};
      const url = new URL(env['DATABASE_URL'] ?? '');
      expect([url.username, url.password], `${name}: DATABASE_URL`).toEqual([user, password]);
      const config = read(join('services', name, 'src', 'config.ts'));
      if (config.includes('MIGRATION_DATABASE_URL')) {
        expect(new URL(env['MIGRATION_DATABASE_URL'] ?? '').username, `${name}: MIGRATION_DATABASE_URL`).toBe(
          owner,
        );
      }
    }
  });
});

describe('Dockerfile', () => {
  it('uses the pnpm of package.json and the Node of .node-version', () => {
    const pnpmVersion = /^pnpm@(.+)$/.exec(
      (JSON.parse(read('package.json')) as { packageManager: string }).packageManager,
    )?.[1];
    const nodeMajor = Number(read('.node-version').trim().split('.')[0]);
    expect(pnpmVersion).toBeDefined();
    expect(checkDockerfile(read('Dockerfile'), { pnpmVersion: pnpmVersion ?? '', nodeMajor })).toEqual([]);
  });

  it('the check reports each drift', () => {
    expect(checkDockerfile(goodDockerfile, toolchain)).toEqual([]);
    expect(checkDockerfile(goodDockerfile, { ...toolchain, pnpmVersion: '10.35.0' })).toEqual([
      'Dockerfile: installs pnpm@10.34.8, package.json wants pnpm@10.35.0',
    ]);
    expect(checkDockerfile(goodDockerfile, { ...toolchain, nodeMajor: 26 })).toEqual([
      'Dockerfile: node:24-slim is not Node 26 (.node-version)',
      'Dockerfile: node:24-slim is not Node 26 (.node-version)',
    ]);
    expect(checkDockerfile(goodDockerfile.replace(' --frozen-lockfile', ''), toolchain)).toEqual([
      'Dockerfile: pnpm install must use --frozen-lockfile',
    ]);
    expect(checkDockerfile(goodDockerfile.replace('USER node', ''), toolchain)).toEqual([
      'Dockerfile: runs as root',
    ]);
    expect(checkDockerfile(goodDockerfile.replace('ARG SERVICE', ''), toolchain)).toEqual([
      'Dockerfile: no ARG SERVICE',
    ]);
  });
});
