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
      const keys = Object.keys(record);
      sortKeys(keys);
      let out = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const v = record[key];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${quotedKey(key)}:${canonicalJson(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}

/**
 * Sorts in place by UTF-16 code units (what `<` on strings compares, and sort() without a
 * comparator). Insertion sort for the few keys of a ledger object, most often already in order
 * (no moves then); the built-in sort for many.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 24) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
}

/**
 * JSON.stringify(key), remembered: the same few dozen field names recur in every event and
 * command, and quoting them afresh each time was a third of this function's cost. Bounded:
 * metadata keys come from callers, so past the cap (or for long keys) nothing more is kept.
 */
const quoted = new Map<string, string>();
const QUOTED_MAX_ENTRIES = 4096;
const QUOTED_MAX_KEY_LENGTH = 64;

function quotedKey(key: string): string {
  let text = quoted.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    if (quoted.size < QUOTED_MAX_ENTRIES && key.length <= QUOTED_MAX_KEY_LENGTH) quoted.set(key, text);
  }
  return text;
}
