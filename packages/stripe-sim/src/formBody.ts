/**
 * Parses Stripe's form encoding (`application/x-www-form-urlencoded` with bracket nesting):
 * `metadata[order]=42&expand[]=latest_charge&items[0][price]=p` -> nested objects and arrays.
 */
export function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (body.trim() === '') return out;
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const path = !rawKey.includes('[')
      ? [rawKey]
      : (rawKey.match(/^[^[]+|\[[^\]]*\]/g)?.map((p) => (p.startsWith('[') ? p.slice(1, -1) : p)) ?? [
          rawKey,
        ]);
    let node: Record<string, unknown> | unknown[] = out;
    for (let i = 0; i < path.length; i++) {
      const key = path[i] as string;
      const last = i === path.length - 1;
      if (Array.isArray(node)) {
        const index = key === '' ? node.length : Number(key);
        if (last) node[index] = value;
        else
          node = (node[index] ??= /^\d*$/.test(path[i + 1] as string) ? [] : {}) as
            Record<string, unknown> | unknown[];
      } else if (last) {
        node[key] = value;
      } else {
        node = (node[key] ??= /^\d*$/.test(path[i + 1] as string) ? [] : {}) as
          Record<string, unknown> | unknown[];
      }
    }
  }
  return out;
}

/** One form-encoded component: `+` is a space, then percent-decoding (most components have neither). */
function decode(component: string): string {
  if (!component.includes('%') && !component.includes('+')) return component;
  return decodeURIComponent(component.replace(/\+/g, ' '));
}
