import { loadConfig, startApi, type RunningApi } from '@payledger/api';

/** The services composed in one process, and how to stop them all. */
export interface EmbeddedSystem {
  readonly apiUrl: string;
  readonly embedded: boolean;
  close(): Promise<void>;
}

/**
 * Starts every service in this process through its public entry point. With nothing configured
 * it needs no external server: PGlite under LEDGER_DATA_DIR (default .data/pglite).
 */
export async function startEmbedded(env: Record<string, string | undefined>): Promise<EmbeddedSystem> {
  const apiConfig = loadConfig(env);
  const api: RunningApi = await startApi(apiConfig);
  return {
    apiUrl: api.url,
    embedded: apiConfig.embedded,
    async close() {
      await api.close();
    },
  };
}
