/**
 * The canonical JSON form the hash chain is computed over (docs/hash-chain.md): RFC 8785 (JCS)
 * restricted to what the ledger stores. Object keys sorted by UTF-16 code units, no white space,
 * strings escaped as JSON.stringify does (which is what RFC 8785 specifies), integers only (money is
 * a decimal string, counters are safe integers), no floats, no undefined.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new TypeError(`canonical JSON holds safe integers only, got ${value}`);
      }
      return String(value);
    case 'bigint':
      throw new TypeError('bigint must be converted to a decimal string before hashing');
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        // Default sort compares UTF-16 code units, as RFC 8785 requires.
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}
