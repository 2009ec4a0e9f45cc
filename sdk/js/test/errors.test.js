// The shared HTTP-status-to-error mapping and the error constructors' shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromStatus, fromHttpError, retryAfterMs, bodyExcerpt } from '../status.js';
import * as errors from '../errors.js';

const enc = new TextEncoder();
const response = (status, body = '', headers = []) => ({ status, headers, body: enc.encode(body) });

test('statuses map to the shared cases', () => {
  const cases = [
    [400, 'invalid-data'], [422, 'invalid-data'], [401, 'auth-failed'], [403, 'auth-failed'],
    [404, 'not-found'], [409, 'conflict'], [429, 'rate-limited'], [500, 'transient'],
    [503, 'transient'], [599, 'transient'], [302, 'permanent'], [418, 'permanent'], [600, 'permanent'],
  ];
  for (const [status, tag] of cases) {
    assert.equal(fromStatus('get', response(status)).tag, tag, `status ${status}`);
  }
});

test('the detail carries the status and a bounded body excerpt', () => {
  const error = fromStatus('get', response(400, 'x'.repeat(5000)));
  assert.equal(error.val.httpStatus, 400);
  assert.equal(error.val.message, `GET answered HTTP 400: ${'x'.repeat(200)}...`);
  assert.deepEqual(error.val.fields, []);
  assert.equal(error.val.targetCode, undefined);
  assert.equal(fromStatus('delete', response(404, '  \n')).val.message, 'DELETE answered HTTP 404');
});

test('an excerpt never splits a character', () => {
  assert.equal(bodyExcerpt(enc.encode(`a${'é'.repeat(150)}`)), `a${'é'.repeat(99)}...`);
  assert.equal(bodyExcerpt(enc.encode(' short\n')), 'short');
});

test('5xx is of unknown outcome only for writes', () => {
  for (const method of ['post', 'put', 'patch', 'delete']) {
    const error = fromStatus(method, response(502));
    assert.equal(error.val.outcomeUnknown, true, method);
    assert.equal(error.val.detail.httpStatus, 502);
  }
  for (const method of ['get', 'head']) {
    assert.equal(fromStatus(method, response(502)).val.outcomeUnknown, false, method);
  }
});

test('409 carries the existing id from the body', () => {
  assert.equal(fromStatus('post', response(409, '{"id":"r-7"}')).val.existingRemoteId, 'r-7');
  assert.equal(fromStatus('post', response(409, '{"id":42}')).val.existingRemoteId, '42');
  assert.equal(fromStatus('post', response(409, 'not json')).val.existingRemoteId, undefined);
  assert.equal(fromStatus('post', response(409, '{"id":""}')).val.existingRemoteId, undefined);
});

test('429 reads Retry-After as seconds or an HTTP-date, as a bigint of milliseconds', () => {
  const seconds = fromStatus('post', response(429, '', [['Retry-After', '7']]));
  assert.equal(seconds.val.retryAfterMs, 7000n);
  const now = Date.parse('Sun, 29 Nov 2026 10:00:00 GMT');
  const dated = fromStatus('post', response(429, '', [['retry-after', 'Sun, 29 Nov 2026 10:00:30 GMT']]), now);
  assert.equal(dated.val.retryAfterMs, 30000n);
  assert.equal(fromStatus('post', response(429)).val.retryAfterMs, undefined);
  assert.equal(retryAfterMs('soon'), undefined);
  assert.equal(retryAfterMs('Sun, 29 Nov 2026 09:00:00 GMT', now), 0);
});

test('transport errors map to the shared cases', () => {
  assert.deepEqual(
    [fromHttpError('post', { tag: 'timeout' }).val.outcomeUnknown, fromHttpError('get', { tag: 'timeout' }).val.outcomeUnknown],
    [true, false],
  );
  const failed = (sent, method) =>
    fromHttpError(method, { tag: 'connection-failed', val: { message: 'reset', sent } });
  assert.equal(failed(true, 'put').tag, 'transient');
  assert.equal(failed(true, 'put').val.outcomeUnknown, true);
  assert.equal(failed(false, 'put').val.outcomeUnknown, false);
  assert.equal(failed(true, 'get').val.outcomeUnknown, false);
  assert.equal(fromHttpError('get', { tag: 'response-too-large', val: 1024n }).tag, 'permanent');
  assert.equal(fromHttpError('get', { tag: 'denied', val: 'origin not allowed' }).tag, 'permanent');
  assert.equal(fromHttpError('get', { tag: 'invalid-request', val: 'bad url' }).tag, 'permanent');
  const refused = fromHttpError('post', {
    tag: 'token-refused',
    val: { status: 400, error: 'invalid_grant', description: 'expired' },
  });
  assert.equal(refused.tag, 'auth-failed');
  assert.equal(refused.val.message, 'the token endpoint refused the grant: invalid_grant expired');
  assert.equal(refused.val.targetCode, 'invalid_grant');
  assert.equal(refused.val.httpStatus, 400);
  assert.equal(
    fromHttpError('get', { tag: 'connection-failed', val: { message: 'refused', sent: false } }).val.detail.message,
    'GET failed to connect: refused',
  );
});

test('constructors build the bindings shapes', () => {
  assert.deepEqual(errors.notFound('gone', { httpStatus: 404 }), {
    tag: 'not-found',
    val: { message: 'gone', targetCode: undefined, fields: [], httpStatus: 404 },
  });
  assert.deepEqual(errors.rateLimited('slow', { retryAfterMs: 1500 }).val.retryAfterMs, 1500n);
  assert.equal(errors.unsupported('groups').tag, 'unsupported');
  assert.equal(errors.quotaExhausted('daily').tag, 'quota-exhausted');
});

test('guard turns anything thrown into a provision error', () => {
  assert.throws(() => errors.guard(() => { throw new TypeError('boom'); }), (e) => {
    assert.equal(e.tag, 'permanent');
    assert.equal(e.val.message, 'connector error: TypeError: boom');
    return true;
  });
  assert.throws(() => errors.guard(() => { throw errors.conflict('dup'); }), (e) => e.tag === 'conflict');
  assert.equal(errors.guard(() => 5), 5);
});
