// Constructors of the contract's `provision-error`, in the shape componentize-js needs: a
// `{ tag, val }` object with the contract's case names. Throw them from `provision`, `lookup` and
// `list-entities` (anything else thrown traps the call), or return them inside
// `provision-batch` results as `{ tag: 'err', val: error }`.

/**
 * The contract's `error-detail`.
 * @param {string} message human-readable explanation
 * @param {{targetCode?: string, fields?: string[], httpStatus?: number}} [extra]
 */
export function detail(message, extra = {}) {
  return {
    message,
    targetCode: extra.targetCode,
    fields: extra.fields ?? [],
    httpStatus: extra.httpStatus,
  };
}

/** `transient`: retried with backoff; `outcomeUnknown` when a write may have been applied. */
export function transient(message, extra = {}) {
  return {
    tag: 'transient',
    val: { detail: detail(message, extra), outcomeUnknown: extra.outcomeUnknown ?? false },
  };
}

function retryAfter(extra) {
  return extra.retryAfterMs === undefined ? undefined : BigInt(extra.retryAfterMs);
}

/** `rate-limited`: retried after `retryAfterMs` (milliseconds) when given. */
export function rateLimited(message, extra = {}) {
  return { tag: 'rate-limited', val: { detail: detail(message, extra), retryAfterMs: retryAfter(extra) } };
}

/** `quota-exhausted`: the target is paused until the quota resets (`retryAfterMs`). */
export function quotaExhausted(message, extra = {}) {
  return { tag: 'quota-exhausted', val: { detail: detail(message, extra), retryAfterMs: retryAfter(extra) } };
}

/** `auth-failed`: credentials refused; the host pauses the target. */
export function authFailed(message, extra = {}) {
  return { tag: 'auth-failed', val: detail(message, extra) };
}

/** `conflict`: the entity exists remotely, with its id in `existingRemoteId` when known. */
export function conflict(message, extra = {}) {
  return {
    tag: 'conflict',
    val: { detail: detail(message, extra), existingRemoteId: extra.existingRemoteId },
  };
}

/** `invalid-data`: the data was refused; fix it and replay. */
export function invalidData(message, extra = {}) {
  return { tag: 'invalid-data', val: detail(message, extra) };
}

/** `not-found`: the remote entity does not exist. */
export function notFound(message, extra = {}) {
  return { tag: 'not-found', val: detail(message, extra) };
}

/** `unsupported`: this connector or target cannot do the operation. */
export function unsupported(message, extra = {}) {
  return { tag: 'unsupported', val: detail(message, extra) };
}

/** `permanent`: any other failure that retrying cannot fix. */
export function permanent(message, extra = {}) {
  return { tag: 'permanent', val: detail(message, extra) };
}

const CASES = new Set([
  'transient', 'rate-limited', 'quota-exhausted', 'auth-failed', 'conflict',
  'invalid-data', 'not-found', 'unsupported', 'permanent',
]);

/** Whether `value` is a `provision-error` built by these constructors. */
export function isProvisionError(value) {
  return value !== null && typeof value === 'object' && CASES.has(value.tag) && 'val' in value;
}

/**
 * A `provision-error` for anything thrown: provision errors pass through, anything else (a bug,
 * a ConfigError) becomes `permanent` with its message, so the call fails typed instead of trapping.
 */
export function toProvisionError(thrown) {
  if (isProvisionError(thrown)) return thrown;
  if (thrown instanceof Error && thrown.name === 'ConfigError') {
    return permanent(`configuration: ${thrown.message}`, { fields: [thrown.key] });
  }
  const message = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  return permanent(`connector error: ${message}`);
}

/**
 * Runs `body()` and rethrows whatever it throws as a `provision-error`, the only kind of
 * exception the bindings turn into an `err` result. `body` is synchronous, like the contract's
 * imports.
 */
export function guard(body) {
  try {
    return body();
  } catch (thrown) {
    throw toProvisionError(thrown);
  }
}
