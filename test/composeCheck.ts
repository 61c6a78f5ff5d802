import { parse } from 'yaml';

/** A service folder and the variables its config requires. */
export interface ServiceSpec {
  readonly name: string;
  readonly requiredEnvironment: readonly string[];
}

interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  environment?: Record<string, unknown> | string[];
  depends_on?: Record<string, unknown> | string[];
  healthcheck?: { test?: unknown };
}

function envNames(env: ComposeService['environment']): string[] {
  if (env === undefined) return [];
  if (Array.isArray(env)) return env.map((e) => String(e).split('=')[0] ?? '');
  return Object.keys(env);
}

function dependsOn(deps: ComposeService['depends_on']): string[] {
  if (deps === undefined) return [];
  return Array.isArray(deps) ? deps : Object.keys(deps);
}

/** Every way docker-compose.yml disagrees with the service folders; empty when it is right. */
export function checkCompose(yamlText: string, services: readonly ServiceSpec[]): string[] {
  const doc = parse(yamlText) as { services?: Record<string, ComposeService> };
  const entries = doc.services ?? {};
  const problems: string[] = [];
  const postgres = entries['postgres'];
  const pgVersion = Number(/^postgres:(\d+)/.exec(postgres?.image ?? '')?.[1] ?? 0);
  if (pgVersion < 16) problems.push('postgres: needs an image postgres:16 or newer');
  if (postgres?.healthcheck?.test === undefined) problems.push('postgres: no healthcheck');
  const kafka = entries['kafka'];
  if (!(kafka?.image ?? '').startsWith('apache/kafka'))
    problems.push('kafka: needs the official apache/kafka image');
  const roles = String(
    (kafka?.environment as Record<string, unknown> | undefined)?.['KAFKA_PROCESS_ROLES'] ?? '',
  );
  if (!roles.includes('controller'))
    problems.push('kafka: not in KRaft mode (KAFKA_PROCESS_ROLES lacks controller)');
  if (kafka?.healthcheck?.test === undefined) problems.push('kafka: no healthcheck');

  for (const service of services) {
    const entry = entries[service.name];
    if (entry === undefined) {
      problems.push(`${service.name}: no entry in docker-compose.yml`);
      continue;
    }
    if (entry.build?.dockerfile !== 'Dockerfile' || entry.build.args?.['SERVICE'] !== service.name) {
      problems.push(`${service.name}: must build from Dockerfile with args.SERVICE=${service.name}`);
    }
    const env = envNames(entry.environment);
    for (const name of service.requiredEnvironment) {
      if (!env.includes(name)) problems.push(`${service.name}: environment lacks ${name}`);
    }
    const deps = dependsOn(entry.depends_on);
    for (const infra of ['postgres', 'kafka']) {
      if (!deps.includes(infra)) problems.push(`${service.name}: does not depend on ${infra}`);
    }
    if (entry.healthcheck?.test === undefined) problems.push(`${service.name}: no healthcheck`);
  }
  const known = new Set(services.map((s) => s.name));
  for (const [name, entry] of Object.entries(entries)) {
    if (entry.build !== undefined && !known.has(name))
      problems.push(`${name}: built, but there is no services/${name} with a config`);
  }
  return problems;
}
