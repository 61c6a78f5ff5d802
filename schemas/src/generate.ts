// Writes the JSON Schema files under schemas/json/ from the zod contracts, or with --check fails
// when the committed files drifted from the code (run by `npm test`).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonSchemas } from './jsonSchemas.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'json');
const check = process.argv.includes('--check');

function listFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? listFiles(p) : [relative(root, p)];
  });
}

const wanted = Object.fromEntries(
  Object.entries(jsonSchemas()).map(([name, schema]) => [name, `${JSON.stringify(schema, null, 2)}\n`]),
);
const present = listFiles(root);
const problems: string[] = [];
for (const [name, text] of Object.entries(wanted)) {
  let current: string | null;
  try {
    current = readFileSync(join(root, name), 'utf8');
  } catch {
    current = null;
  }
  if (current === text) continue;
  if (check)
    problems.push(current === null ? `missing: schemas/json/${name}` : `out of date: schemas/json/${name}`);
  else {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
}
for (const name of present) {
  if (name in wanted) continue;
  if (check) problems.push(`stale: schemas/json/${name}`);
  else rmSync(join(root, name));
}
if (problems.length > 0) {
  console.error(`JSON Schema drift (run \`npm run schemas\` and commit):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  check ? `schemas: ${Object.keys(wanted).length} JSON Schema files up to date` : 'schemas: written',
);
