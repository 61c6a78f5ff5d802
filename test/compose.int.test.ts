import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { checkCompose, type ServiceSpec } from './composeCheck.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Every services/<name> with a config.ts, and the variables it requires. */
async function serviceSpecs(): Promise<ServiceSpec[]> {
  const specs: ServiceSpec[] = [];
  for (const name of readdirSync(join(root, 'services')).sort()) {
    const config = join(root, 'services', name, 'src', 'config.ts');
    if (!existsSync(config)) continue;
    const mod = (await import(config)) as { requiredEnvironment?: readonly string[] };
    if (mod.requiredEnvironment === undefined)
      throw new Error(`services/${name}/src/config.ts exports no requiredEnvironment`);
    specs.push({ name, requiredEnvironment: mod.requiredEnvironment });
  }
  return specs;
}

const good = `
services:
  postgres: { image: 'postgres:16-alpine', healthcheck: { test: ['CMD', 'true'] } }
  kafka: { image: 'apache/kafka:4.1.1', environment: { KAFKA_PROCESS_ROLES: 'broker,controller' }, healthcheck: { test: ['CMD', 'true'] } }
  svc:
    build: { context: ., dockerfile: Dockerfile, args: { SERVICE: svc } }
    environment: { DATABASE_URL: x, SECRET: y }
    depends_on: { postgres: { condition: service_healthy }, kafka: { condition: service_healthy } }
    healthcheck: { test: ['CMD', 'true'] }
`;
const svc: ServiceSpec = { name: 'svc', requiredEnvironment: ['DATABASE_URL', 'SECRET'] };

describe('docker-compose.yml', () => {
  it('has an entry for every service folder, with the environment its config requires', async () => {
    const specs = await serviceSpecs();
    expect(specs.map((s) => s.name)).toEqual(expect.arrayContaining(['api', 'outbox-relay']));
    expect(checkCompose(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), specs)).toEqual([]);
  });

  it('the check reports each kind of mistake', () => {
    expect(checkCompose(good, [svc])).toEqual([]);
    expect(checkCompose(good, [svc, { name: 'other', requiredEnvironment: [] }])).toEqual([
      'other: no entry in docker-compose.yml',
    ]);
    expect(
      checkCompose(good, [{ ...svc, requiredEnvironment: ['DATABASE_URL', 'SECRET', 'KAFKA_BROKERS'] }]),
    ).toEqual(['svc: environment lacks KAFKA_BROKERS']);
    expect(checkCompose(good.replace("healthcheck: { test: ['CMD', 'true'] }\n", '\n'), [svc])).toEqual([
      'svc: no healthcheck',
    ]);
    expect(checkCompose(good, [])).toEqual(['svc: built, but there is no services/svc with a config']);
    expect(checkCompose(good.replace('postgres:16-alpine', 'postgres:14'), [svc])).toEqual([
      'postgres: needs an image postgres:16 or newer',
    ]);
    expect(checkCompose(good.replace('broker,controller', 'broker'), [svc])).toEqual([
      'kafka: not in KRaft mode (KAFKA_PROCESS_ROLES lacks controller)',
    ]);
  });
});
