// Requests through the contract's `http` import. The host performs them under the target's
// egress policy and attaches the named credential; the connector never sees a secret.
import { send as hostSend } from 'provisioning:connector/http@0.2.0';
import { permanent } from './errors.js';
import { fromHttpError, fromStatus } from './status.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The contract's `bearer` credential for the secret property `key`. */
export function bearer(key) {
  return { tag: 'bearer', val: { key } };
}

/** The contract's `basic` credential: `username` and the secret property `passwordKey`. */
export function basic(username, passwordKey) {
  return { tag: 'basic', val: { username, password: { key: passwordKey } } };
}

/** The contract's `header` credential: header `name` carrying the secret property `key`. */
export function secretHeader(name, key) {
  return { tag: 'header', val: { name, value: { key } } };
}

/**
 * Sends one request and returns the response `{status, headers, body}` whatever its status.
 * A transport failure (`http-error`) is thrown as the shared mapping's `provision-error`.
 * @param {'get'|'head'|'post'|'put'|'patch'|'delete'} method
 * @param {string} url absolute URL; its origin must be one of the target's URL properties
 * @param {{json?: any, body?: Uint8Array, headers?: [string, string][], credential?: object, timeoutMs?: number}} [options]
 */
export function send(method, url, options = {}) {
  const headers = [...(options.headers ?? [])];
  let body = options.body;
  if (options.json !== undefined) {
    body = encoder.encode(JSON.stringify(options.json));
    headers.push(['content-type', 'application/json']);
  }
  if (!headers.some(([n]) => n.toLowerCase() === 'accept')) headers.push(['accept', 'application/json']);
  try {
    return hostSend({
      method,
      url,
      headers,
      body,
      credential: options.credential,
      timeoutMs: options.timeoutMs,
    });
  } catch (thrown) {
    // componentize-js throws an imported function's `err` as the error value itself or wrapped
    // with a `payload`; accept both.
    const error = thrown && thrown.payload !== undefined ? thrown.payload : thrown;
    if (error && typeof error.tag === 'string') throw fromHttpError(method, error);
    throw thrown;
  }
}

/** Whether `response.status` is 2xx. */
export function isSuccess(response) {
  return response.status >= 200 && response.status <= 299;
}

/** Like `send`, but a non-2xx response is thrown as the shared mapping's `provision-error`. */
export function sendOk(method, url, options = {}) {
  const response = send(method, url, options);
  if (!isSuccess(response)) throw fromStatus(method, response);
  return response;
}

/** The response body parsed as JSON; a body that is not JSON throws `permanent`. */
export function json(response) {
  const text = decoder.decode(response.body);
  try {
    return JSON.parse(text);
  } catch {
    throw permanent(`HTTP ${response.status}: response body is not JSON: ${text.slice(0, 200)}`, {
      httpStatus: response.status,
    });
  }
}
