import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';

/** The repository root (packages/testkit/src/../../..). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A folder under `.cache/` of the repository, created on demand; survives between runs. */
export function cacheDir(...parts: string[]): string {
  const dir = join(repoRoot, '.cache', ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
