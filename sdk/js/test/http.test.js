// Request helpers over the contract's `http` import (a scripted fake host stands in for it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answer, requests } from './fake-host.js';
import { send, sendOk, json, bearer } from '../http.js';

const enc = new TextEncoder();

test('send builds the contract request with a JSON body and the credential', () => {
  answer(() => ({ status: 201, headers: [], body: enc.encode('{"id":"r-1"}') }));
  const response = send('post', 'https://api.example.com/users', {
    json: { userName: 'ada' },
    credential: bearer('api-token'),
  });
  assert.equal(json(response).id, 'r-1');
  assert.equal(requests.length, 1);
  const request = requests[0];
  assert.equal(request.method, 'post');
  assert.equal(request.url, 'https://api.example.com/users');
  assert.deepEqual(JSON.parse(new TextDecoder().decode(request.body)), { userName: 'ada' });
  assert.deepEqual(request.headers, [['content-type', 'application/json'], ['accept', 'application/json']]);
  assert.deepEqual(request.credential, { tag: 'bearer', val: { key: 'api-token' } });
});

test('sendOk throws the mapped error for a non-2xx status', () => {
  answer(() => ({ status: 503, headers: [], body: enc.encode('down') }));
  assert.throws(() => sendOk('put', 'https://api.example.com/users/1'), (e) => {
    assert.equal(e.tag, 'transient');
    assert.equal(e.val.outcomeUnknown, true);
    assert.equal(e.val.detail.message, 'PUT answered HTTP 503: down');
    return true;
  });
});

test('a transport error is thrown as the mapped provision error', () => {
  answer(() => ({ tag: 'connection-failed', val: { message: 'refused', sent: false } }));
  assert.throws(() => send('post', 'https://api.example.com/users'), (e) => {
    assert.equal(e.tag, 'transient');
    assert.equal(e.val.outcomeUnknown, false);
    return true;
  });
  answer(() => { throw { payload: { tag: 'timeout' } }; });
  assert.throws(() => send('delete', 'https://api.example.com/users/1'), (e) => e.tag === 'transient' && e.val.outcomeUnknown === true);
});

test('json refuses a body that is not JSON', () => {
  assert.throws(() => json({ status: 200, headers: [], body: enc.encode('<html>') }), (e) => e.tag === 'permanent' && e.val.httpStatus === 200);
});
