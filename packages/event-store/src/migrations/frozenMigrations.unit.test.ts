import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { migrationProvider } from './index.ts';

// Migrations are frozen in time (STYLE.md): a database that ran one never runs it again, so an
// edit to a landed migration reaches new databases only and the two drift apart silently. Each
// landed file's sha256 is recorded here; a change to one fails this test. A new migration is a new
// file plus its line below (and its entry in index.ts), never an edit.
const landed: Record<string, string> = {
  '0001_ledger.ts': '3f94369e703450c93960bd6b8b50002c93ac9a6322b9d2d06a0a656c4e8541bb',
  '0002_payment_summaries.ts': '4cca092b2912ded6c84f6d34a834dccbcd277a41aa77ec9ee8f7734d5d4d0d2d',
  '0003_outbox_relay.ts': '0071463a67997750bd837b70bd07dd48f667190bf7731e4d2f04da2c5fbd7c6e',
  '0004_executor_inbox.ts': '0b509cf41d7499e6bd87982b4d5a24e326af5f60117e9ef79a4b0f4174c26b7a',
  '0005_group_commit.ts': '15027f7700addf449e2cdc9b402715b46777d3b8760cad5b8c944dbe316937ec',
  '0006_lean_group_commit.ts': '21f5353ac1780c14e0609019c7ebc5e1382b5fe1255bff02fc0c879a9ff61bd8',
  '0007_drop_events_type_index.ts': '44b393ef6029ecc5b5ef18dda851b210ad87fd720937abca89979528a1cb8a9e',
  '0008_new_stream_batch.ts': 'c3333471c6ba223b04d59f8d4b38ed03f7f30481267554f18ad4e603206c2728',
  '0009_executor_read_after.ts': 'bcda4ba734681d59b4d6bc4cbb795a1795d018b6b8e022392c35bae67d8986c2',
  '0010_outbox_hint_after_commit.ts': '79a1f1c2fd6e123b9d1c55deb01a59c70f18447a4555f9baf1fcef2eb8ebd0d9',
  '0011_outbox_references_events.ts': '1f6791141c85281b02bd36a6cc6e626a2599389db09ab304dab6ed468732bacf',
  '0012_new_batch_fast_path.ts': '822dc9e22004b77589f695194fdc5611dcb41ff148d7ba6be9d736fa76065de4',
};

const folder = new URL('.', import.meta.url);
const files = readdirSync(folder).filter((f) => /^\d{4}_.*\.ts$/.test(f) && !f.includes('.test.'));

describe('migrations', () => {
  it('are never edited once landed', () => {
    for (const file of files) {
      const digest = createHash('sha256')
        .update(readFileSync(new URL(file, folder)))
        .digest('hex');
      expect(digest, `${file} changed: write a new migration instead, or record a new file here`).toBe(
        landed[file],
      );
    }
    expect(files.sort()).toEqual(Object.keys(landed).sort());
  });

  it('are all registered, in file order', async () => {
    const registered = Object.keys(await migrationProvider.getMigrations());
    expect(registered).toEqual(files.sort().map((f) => f.replace(/\.ts$/, '')));
  });
});
