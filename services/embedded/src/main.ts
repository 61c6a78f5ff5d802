import { startEmbedded } from './startEmbedded.ts';

// `npm start`. The only place that reads the whole environment is each service's config.ts,
// reached through startEmbedded.
try {
  const system = await startEmbedded(process.env);
  console.log(
    `payment ledger running: API ${system.apiUrl}${system.embedded ? ' (embedded: PGlite, dev credentials in README)' : ''}`,
  );
  console.log(
    'try: curl -s -H "Authorization: Bearer dev-writer.dev-writer-secret" ' + `${system.apiUrl}/v1/payments`,
  );
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log('stopping...');
      void system.close().then(() => process.exit(0));
    });
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
