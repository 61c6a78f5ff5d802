import { parse } from 'yaml';

/**
 * Pure checks that keep docker-compose.yml and the Dockerfile honest on machines without Docker
 * (test/compose.int.test.ts runs them on the real files and on broken fixtures).
 */

/** A service folder and the variables its config requires. */
export interface ServiceSpec {
  readonly name: string;
  readonly requiredEnvironment: readonly string[];
}

interface ComposeService {
  image?: unknown;
  command?: unknown;
  build?: { context?: unknown; dockerfile?: unknown; args?: Record<string, unknown> | string[] } | string;
  environment?: Record<string, unknown> | string[];
  depends_on?: Record<string, { condition?: unknown } | null> | string[];
  healthcheck?: { test?: unknown; disable?: unknown };
  volumes?: unknown[];
}

/** `environment` and `build.args` come as a mapping or as a list of `NAME=value`. */
function toMap(value: Record<string, unknown> | string[] | undefined): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!Array.isArray(value)) return value;
  const map: Record<string, unknown> = {};
  for (const item of value) {
    const text = String(item);
    const eq = text.indexOf('=');
    map[eq < 0 ? text : text.slice(0, eq)] = eq < 0 ? null : text.slice(eq + 1);
  }
  return map;
}

function hasHealthcheck(entry: ComposeService | undefined): boolean {
  const hc = entry?.healthcheck;
  if (hc === undefined || hc === null || hc.disable === true) return false;
  const test = hc.test;
  if (Array.isArray(test)) return test.length > 1 && test[0] !== 'NONE';
  return typeof test === 'string' && test.trim() !== '';
}

/** Compose refuses booleans (and objects) as environment values; YAML's `false` must be quoted. */
function envTypeProblems(name: string, env: Record<string, unknown>): string[] {
  return Object.entries(env)
    .filter(([, v]) => v !== null && typeof v !== 'string' && typeof v !== 'number')
    .map(([k]) => `${name}: environment ${k} must be a string or a number (quote it)`);
}

function commandText(command: unknown): string {
  return Array.isArray(command) ? command.join(' ') : typeof command === 'string' ? command : '';
}

/** Every way docker-compose.yml disagrees with the service folders; empty when it is right. */
export function checkCompose(yamlText: string, services: readonly ServiceSpec[]): string[] {
  const doc = parse(yamlText) as { services?: Record<string, ComposeService> } | null;
  const entries = doc?.services ?? {};
  const problems: string[] = [];

  // PostgreSQL 16 or newer, durable (fsync and synchronous commit never turned off), healthchecked.
  const postgres = entries['postgres'];
  const pgImage = typeof postgres?.image === 'string' ? postgres.image : '';
  const pgVersion = Number(/(?:^|\/)postgres:(\d+)/.exec(pgImage)?.[1] ?? 0);
  if (pgVersion < 16) problems.push('postgres: needs an image postgres:16 or newer');
  if (/\b(fsync|synchronous_commit)\s*=\s*off\b/.test(commandText(postgres?.command)))
    problems.push('postgres: fsync and synchronous_commit must stay on (a 2xx means durable)');
  if (!hasHealthcheck(postgres)) problems.push('postgres: no healthcheck');

  // The official Kafka image in KRaft mode, its data on a volume, healthchecked.
  const kafka = entries['kafka'];
  const kafkaImage = typeof kafka?.image === 'string' ? kafka.image : '';
  if (!/^(docker\.io\/)?apache\/kafka(:|$)/.test(kafkaImage))
    problems.push('kafka: needs the official apache/kafka image');
  const kafkaEnv = toMap(kafka?.environment);
  if (!String(kafkaEnv['KAFKA_PROCESS_ROLES'] ?? '').includes('controller'))
    problems.push('kafka: not in KRaft mode (KAFKA_PROCESS_ROLES lacks controller)');
  const logDirs = String(kafkaEnv['KAFKA_LOG_DIRS'] ?? '')
    .split(',')
    .map((d) => d.trim().replace(/\/+$/, ''))
    .filter((d) => d !== '');
  const targets = (kafka?.volumes ?? [])
    .map((v) =>
      typeof v === 'string' ? (v.split(':')[1] ?? '') : String((v as { target?: unknown }).target ?? ''),
    )
    .map((t) => t.replace(/\/+$/, ''))
    .filter((t) => t !== '');
  const onVolume = (dir: string): boolean => targets.some((t) => dir === t || dir.startsWith(`${t}/`));
  if (logDirs.length === 0 || !logDirs.every(onVolume))
    problems.push('kafka: KAFKA_LOG_DIRS must be on a volume (the image defaults to /tmp)');
  if (!hasHealthcheck(kafka)) problems.push('kafka: no healthcheck');

  for (const [name, entry] of Object.entries(entries))
    problems.push(...envTypeProblems(name, toMap(entry?.environment)));

  for (const service of services) {
    const entry = entries[service.name];
    if (entry === undefined || entry === null) {
      problems.push(`${service.name}: no entry in docker-compose.yml`);
      continue;
    }
    const build = typeof entry.build === 'object' && entry.build !== null ? entry.build : undefined;
    if (
      build === undefined ||
      (build.context ?? '.') !== '.' ||
      build.dockerfile !== 'Dockerfile' ||
      toMap(build.args)['SERVICE'] !== service.name
    ) {
      problems.push(
        `${service.name}: must build from context . with Dockerfile and args.SERVICE=${service.name}`,
      );
    }
    const env = toMap(entry.environment);
    for (const name of service.requiredEnvironment) {
      if (!(name in env)) problems.push(`${service.name}: environment lacks ${name}`);
    }
    const deps = entry.depends_on;
    for (const infra of ['postgres', 'kafka']) {
      const condition = Array.isArray(deps) ? undefined : deps?.[infra]?.condition;
      if (Array.isArray(deps) ? !deps.includes(infra) : deps?.[infra] === undefined)
        problems.push(`${service.name}: does not depend on ${infra}`);
      else if (condition !== 'service_healthy')
        problems.push(`${service.name}: must wait for ${infra} with condition service_healthy`);
    }
    if (!hasHealthcheck(entry)) problems.push(`${service.name}: no healthcheck`);
  }

  const known = new Set(services.map((s) => s.name));
  for (const [name, entry] of Object.entries(entries)) {
    if (entry?.build !== undefined && !known.has(name))
      problems.push(`${name}: built, but there is no services/${name} with a config`);
  }
  return problems;
}

/** What the Dockerfile must agree with: package.json's packageManager and .node-version. */
export interface Toolchain {
  readonly pnpmVersion: string;
  readonly nodeMajor: number;
}

/** Every way the Dockerfile disagrees with the repo's toolchain pins; empty when it is right. */
export function checkDockerfile(text: string, toolchain: Toolchain): string[] {
  const problems: string[] = [];
  const froms = [...text.matchAll(/^FROM\s+(?:--platform=\S+\s+)?(\S+)/gim)].map((m) => m[1] ?? '');
  const nodeImages = froms.filter((image) => /^(docker\.io\/)?(library\/)?node:/.test(image));
  if (nodeImages.length === 0) problems.push('Dockerfile: no node base image');
  for (const image of nodeImages) {
    if (!new RegExp(`:${toolchain.nodeMajor}([.-]|$)`).test(image))
      problems.push(`Dockerfile: ${image} is not Node ${toolchain.nodeMajor} (.node-version)`);
  }
  const pnpm = /pnpm@(\d+\.\d+\.\d+\S*)/.exec(text)?.[1];
  if (pnpm !== toolchain.pnpmVersion)
    problems.push(
      `Dockerfile: installs pnpm@${pnpm ?? '?'}, package.json wants pnpm@${toolchain.pnpmVersion}`,
    );
  if (!/--frozen-lockfile/.test(text)) problems.push('Dockerfile: pnpm install must use --frozen-lockfile');
  if (!/^ARG\s+SERVICE\b/m.test(text)) problems.push('Dockerfile: no ARG SERVICE');
  // The last USER instruction decides who runs the service.
  const users = [...text.matchAll(/^USER\s+(\S+)/gim)].map((m) => m[1]);
  const user = users.at(-1);
  if (user === undefined || user === 'root' || user === '0') problems.push('Dockerfile: runs as root');
  return problems;
}
