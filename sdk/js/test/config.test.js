// The config reader: typed values, defaults, and errors naming the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configReader, validateWith, ConfigError, claimValue, claimValues } from '../config.js';

const config = (entries) => ({
  tenant: 't',
  target: 'x',
  entries: Object.entries(entries).map(([key, value]) => ({ key, value })),
});
const text = (val) => ({ tag: 'text', val });

test('reads every kind of value', () => {
  const reader = configReader(config({
    endpoint: text('https://api.example.com/v1/'),
    flag: { tag: 'boolean', val: true },
    flagText: text('false'),
    count: { tag: 'integer', val: 30n },
    countText: text('12'),
    mode: text('fast'),
    token: { tag: 'secret', val: { key: 'token' } },
    mappings: { tag: 'claim-mappings', val: [{ targetField: 'mail', claim: 'urn:mail', defaultValue: undefined }] },
  }));
  assert.equal(reader.requireUrl('endpoint'), 'https://api.example.com/v1');
  assert.equal(reader.bool('flag'), true);
  assert.equal(reader.bool('flagText'), false);
  assert.equal(reader.int('count'), 30);
  assert.equal(reader.int('countText'), 12);
  assert.equal(reader.choice('mode', ['fast', 'slow']), 'fast');
  assert.deepEqual(reader.requireSecret('token'), { key: 'token' });
  assert.equal(reader.claimMappings('mappings')[0].targetField, 'mail');
});

test('unset values take the fallback', () => {
  const reader = configReader(config({}));
  assert.equal(reader.text('a'), undefined);
  assert.equal(reader.text('a', 'd'), 'd');
  assert.equal(reader.bool('a', true), true);
  assert.equal(reader.int('a', 3), 3);
  assert.equal(reader.url('a'), undefined);
  assert.equal(reader.choice('a', ['x'], 'x'), 'x');
  assert.equal(reader.secret('a'), undefined);
  assert.deepEqual(reader.claimMappings('a'), []);
});

function throwsNaming(fn, key, fragment) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.key, key);
    assert.ok(e.message.includes(`\`${key}\``), e.message);
    assert.ok(e.message.includes(fragment), e.message);
    return true;
  });
}

test('errors name the key and what is wrong', () => {
  const reader = configReader(config({
    endpoint: text('not a url'),
    ftp: text('ftp://example.com'),
    count: text('many'),
    mode: text('medium'),
    flag: text('yes'),
    token: text('plain'),
  }));
  throwsNaming(() => reader.requireText('missing'), 'missing', 'is not set');
  throwsNaming(() => reader.requireUrl('endpoint'), 'endpoint', 'not an absolute URL');
  throwsNaming(() => reader.url('ftp'), 'ftp', 'only http and https');
  throwsNaming(() => reader.int('count'), 'count', 'not an integer');
  throwsNaming(() => reader.choice('mode', ['fast', 'slow']), 'mode', 'fast, slow');
  throwsNaming(() => reader.bool('flag'), 'flag', 'expected boolean');
  throwsNaming(() => reader.requireSecret('token'), 'token', 'expected secret reference');
});

test('validateWith turns a ConfigError into a problem', () => {
  assert.deepEqual(validateWith(config({}), (r) => { r.requireUrl('endpoint'); }), [
    { key: 'endpoint', message: '`endpoint` is not set: give the target a URL value for it' },
  ]);
  assert.deepEqual(validateWith(config({ endpoint: text('https://a') }), (r) => { r.requireUrl('endpoint'); }), []);
  assert.throws(() => validateWith(config({}), () => { throw new TypeError('bug'); }), TypeError);
});

test('claim accessors', () => {
  const user = { claims: [{ uri: 'urn:a', values: ['1', '2'] }] };
  assert.equal(claimValue(user, 'urn:a'), '1');
  assert.deepEqual(claimValues(user, 'urn:a'), ['1', '2']);
  assert.equal(claimValue(user, 'urn:b'), undefined);
  assert.deepEqual(claimValues(user, 'urn:b'), []);
});
