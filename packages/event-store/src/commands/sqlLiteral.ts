import { randomBytes } from 'node:crypto';

/** A fresh dollar-quote tag: `$b` and 12 random hex digits, `$` (a tag starts with a letter). */
const randomTag = (): string => `$b${randomBytes(6).toString('hex')}$`;

/**
 * `text` as a dollar-quoted SQL string constant (`$tag$...$tag$`), for a batch sent as one
 * simple-protocol query. Nothing in `text` is escaped or interpreted: the constant ends only at
 * its tag, and the tag is checked to appear nowhere in `text` (another is drawn if it does), so no
 * content, however crafted, can end the constant early. Cheaper on both sides than an escaped
 * literal: no copy with quotes and backslashes doubled here, and PostgreSQL's lexer takes the
 * body in runs up to each `$` instead of interpreting escapes.
 */
export function dollarQuoted(text: string, nextTag: () => string = randomTag): string {
  for (;;) {
    const tag = nextTag();
    if (!/^\$[A-Za-z_][A-Za-z0-9_]*\$$/.test(tag)) throw new Error(`not a dollar-quote tag: ${tag}`);
    if (!text.includes(tag)) return `${tag}${text}${tag}`;
  }
}
