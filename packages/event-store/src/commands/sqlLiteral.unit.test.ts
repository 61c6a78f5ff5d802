import { describe, expect, it } from 'vitest';
import { dollarQuoted } from './sqlLiteral.ts';

describe('dollarQuoted', () => {
  it('wraps the text unchanged between two copies of one tag', () => {
    const text = `{"a":"it's \\"q\\" \\\\ $$ $1 E'' -- ;"}`;
    const literal = dollarQuoted(text);
    const tag = /^\$b[0-9a-f]{12}\$/.exec(literal)?.[0] ?? '';
    expect(tag).not.toBe('');
    expect(literal).toBe(`${tag}${text}${tag}`);
  });

  it('draws another tag when the text holds the first one, so the text cannot end the constant', () => {
    const tags = ['$bad$', '$ok$'];
    const literal = dollarQuoted('x $bad$; DROP TABLE events; --', () => tags.shift() ?? '$z$');
    expect(literal).toBe('$ok$x $bad$; DROP TABLE events; --$ok$');
  });

  it('refuses a tag PostgreSQL would not read as one', () => {
    expect(() => dollarQuoted('x', () => '$1a$')).toThrow(/not a dollar-quote tag/);
  });
});
