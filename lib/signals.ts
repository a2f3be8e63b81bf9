// Waiting for the process to be told to stop, for every long-running camgate command.

/** Resolves with the signal name (SIGINT/SIGTERM, or SIGHUP: the terminal it ran in was closed, which
 * is a request to stop cleanly too), or 'cancelled' once `cancel` aborts. */
export function waitForStopSignal(cancel?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    // Signal handlers alone do not keep Node running: hold the event loop open until a signal
    // (or until the caller gives up waiting: a start-up failure must let the process exit).
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const stop = (signal: NodeJS.Signals | 'cancelled') => {
      clearInterval(keepAlive);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGHUP', stop);
      cancel?.removeEventListener('abort', onAbort);
      resolve(signal);
    };
    const onAbort = () => stop('cancelled');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', stop);
    if (cancel?.aborted) stop('cancelled');
    else cancel?.addEventListener('abort', onAbort);
  });
}
