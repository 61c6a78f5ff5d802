import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, freePorts } from './processes.ts';

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

describe('free loopback ports', () => {
  it('hands out distinct ports in one call, each free again once it returns', async () => {
    for (let round = 0; round < 20; round++) {
      const ports = await freePorts(4);
      expect(new Set(ports).size).toBe(4);
      for (const port of ports) expect(await bindable(port)).toBe(true);
    }
  });

  it('freePort gives one free port', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await bindable(port)).toBe(true);
  });
});
