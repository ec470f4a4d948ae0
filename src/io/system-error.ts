/**
 * The message of a system error without Node's "ENOENT: ..., open 'path'" decoration (callers
 * name the path themselves). Duck-typed, since errors from Node's realm fail `instanceof Error`
 * under jest's module sandbox.
 */
export function systemReason(err: unknown): string {
  const { code, message } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return String(err);
  const match = /^[A-Z]+: ([^,]+)/.exec(message);
  return typeof code === 'string' && match ? `${match[1]} (${code})` : message;
}
