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
      // Built by concatenation (no entries/filter/map/join arrays): it runs for every event and
      // every command, twice per request in the API.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      // sort() without a comparator compares UTF-16 code units, as RFC 8785 requires.
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const v = record[key];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}
