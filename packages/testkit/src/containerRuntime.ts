/**
 * True when Testcontainers can reach a container runtime (Docker, Podman, ...). Probed once, with
 * a deadline, so that a machine without one falls through to local processes quickly.
 */
let probe: Promise<boolean> | undefined;

export function containerRuntimeAvailable(): Promise<boolean> {
  probe ??= (async () => {
    if (process.env['TESTKIT_NO_CONTAINERS'] === '1') return false;
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      const deadline = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('container runtime probe timed out')), 15_000).unref(),
      );
      await Promise.race([getContainerRuntimeClient(), deadline]);
      return true;
    } catch {
      return false;
    }
  })();
  return probe;
}
