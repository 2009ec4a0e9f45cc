// THE shared mapping of HTTP outcomes to `provision-error`s (the same table as the Rust SDK's
// `error::from_status` and the Python SDK's `status.from_status`):
//   400, 422 → invalid-data        401, 403 → auth-failed       404 → not-found
//   409 → conflict (existing remote id from the body's "id")
//   429 → rate-limited (retry-after-ms from Retry-After: delta seconds or HTTP-date)
//   500..=599 → transient, outcome-unknown when the request was a write
//   any other non-2xx → permanent
// and of transport errors (`http-error`):
//   timeout → transient (outcome-unknown = write); connection-failed → transient
//   (outcome-unknown = sent && write); response-too-large, denied, invalid-request → permanent;
//   token-refused → auth-failed.
import * as errors from './errors.js';

/** How many bytes of a response body an error message quotes at most. */
export const BODY_EXCERPT_BYTES = 200;

const WRITES = new Set(['post', 'put', 'patch', 'delete']);

/** Whether `method` (the contract's enum: 'get', 'post', ...) may change the target. */
export function isWrite(method) {
  return WRITES.has(method);
}

/** The value of header `name` (case-insensitive) in `[[name, value]]`, or undefined. */
export function header(headers, name) {
  const wanted = name.toLowerCase();
  const found = headers.find(([n]) => n.toLowerCase() === wanted);
  return found === undefined ? undefined : found[1];
}

/**
 * Milliseconds to wait from a `Retry-After` value: delta seconds or an HTTP-date (past dates
 * give 0); undefined when absent or unreadable. `now` is epoch milliseconds.
 */
export function retryAfterMs(value, now = Date.now()) {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number.parseInt(text, 10) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The upper-case name of `method` ('post' → 'POST'). */
export function methodName(method) {
  return method.toUpperCase();
}

/**
 * The body as text (invalid UTF-8 replaced), trimmed, cut to at most BODY_EXCERPT_BYTES bytes
 * (never inside a character) and marked `...` when cut.
 */
export function bodyExcerpt(body) {
  const text = new TextDecoder().decode(body).trim();
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= BODY_EXCERPT_BYTES) return text;
  // `stream` holds back a character cut in half at the limit.
  return `${new TextDecoder().decode(bytes.subarray(0, BODY_EXCERPT_BYTES), { stream: true })}...`;
}

function existingId(body) {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body));
    const id = parsed && parsed.id;
    if (typeof id === 'string' && id !== '') return id;
    return typeof id === 'number' ? String(id) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `provision-error` for a non-2xx `response` ({status, headers, body}) to a request sent with
 * `method`. Its message is the status and a bounded excerpt of the body; `httpStatus` is set.
 */
export function fromStatus(method, response, now = Date.now()) {
  const { status } = response;
  const excerpt = bodyExcerpt(response.body);
  const message = `${methodName(method)} answered HTTP ${status}${excerpt === '' ? '' : `: ${excerpt}`}`;
  const extra = { httpStatus: status };
  if (status === 400 || status === 422) return errors.invalidData(message, extra);
  if (status === 401 || status === 403) return errors.authFailed(message, extra);
  if (status === 404) return errors.notFound(message, extra);
  if (status === 409) {
    return errors.conflict(message, { ...extra, existingRemoteId: existingId(response.body) });
  }
  if (status === 429) {
    const wait = retryAfterMs(header(response.headers, 'retry-after'), now);
    return errors.rateLimited(message, { ...extra, retryAfterMs: wait });
  }
  if (status >= 500 && status <= 599) {
    return errors.transient(message, { ...extra, outcomeUnknown: isWrite(method) });
  }
  return errors.permanent(message, extra);
}

/** The `provision-error` for an `http-error` ({tag, val}) of a request sent with `method`. */
export function fromHttpError(method, error) {
  const write = isWrite(method);
  const name = methodName(method);
  switch (error.tag) {
    case 'denied':
      return errors.permanent(
        `${name} was refused by the host's egress policy: ${error.val}; the URL's origin must be one the operator configured`,
      );
    case 'invalid-request':
      return errors.permanent(`${name} request is malformed: ${error.val}`);
    case 'timeout':
      return errors.transient(`${name} got no complete response in time`, { outcomeUnknown: write });
    case 'connection-failed':
      return errors.transient(`${name} failed to connect: ${error.val.message}`, {
        outcomeUnknown: error.val.sent && write,
      });
    case 'response-too-large':
      return errors.permanent(`${name} response exceeded the host's cap of ${error.val} bytes`);
    case 'token-refused': {
      const t = error.val;
      return errors.authFailed(`the token endpoint refused the grant: ${t.error} ${t.description}`, {
        targetCode: t.error,
        httpStatus: t.status,
      });
    }
    default:
      return errors.permanent(`${name} failed with an unknown http error ${String(error.tag)}`);
  }
}
