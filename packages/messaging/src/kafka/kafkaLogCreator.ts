import { logLevel, type logCreator } from 'kafkajs';

// kafkajs warns on every idempotent producer whose retries are bounded. Ours are bounded on
// purpose, and a failed publish replaces the producer (see kafkaPublisher.ts), so the warning
// would only alarm whoever reads the logs.
const SILENCED = new Set(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);

/**
 * One line per kafkajs log entry on stderr/stdout: `[kafkajs] LEVEL namespace: message {extra}`.
 * kafkajs puts no message keys or values in its entries below DEBUG, and the bus never enables
 * DEBUG (see `KafkaBusOptions.logLevel`), so no payload reaches the logs.
 */
export const kafkaLogCreator: logCreator =
  () =>
  ({ namespace, level, label, log }) => {
    const { message, timestamp: _timestamp, ...extra } = log;
    if (SILENCED.has(message)) return;
    let details = '';
    if (Object.keys(extra).length > 0) {
      try {
        details = ` ${JSON.stringify(extra)}`;
      } catch {
        details = ` (details not serialisable: ${Object.keys(extra).join(', ')})`;
      }
    }
    const where = namespace ? ` ${namespace}` : '';
    const line = `[kafkajs] ${label}${where}: ${String(message)}${details}`;
    if (level <= logLevel.ERROR) console.error(line);
    else if (level === logLevel.WARN) console.warn(line);
    else console.info(line);
  };
