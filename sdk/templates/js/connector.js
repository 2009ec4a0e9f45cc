// The {{name}} connector: provisions users into a REST API over the contract
// provisioning:connector@0.2.0. Build: see README.md.
//
//   create  POST   {endpoint}/users            {"userName", "externalId", "claims"} -> {"id"}
//   update  PUT    {endpoint}/users/{id}       same body
//   delete  DELETE {endpoint}/users/{id}       (404: already gone)
//   lookup  GET    {endpoint}/users?userName=  200 {"id"} -> found, 404 -> none
//
// Every error goes through the SDK's shared HTTP-status mapping; whatever `provision`, `lookup`
// or `listEntities` throws must be a `{tag, val}` provision error (the SDK's `guard` makes sure).
import {
  bearer,
  configReader,
  errors,
  guard,
  json,
  send,
  sendOk,
  fromStatus,
  validateWith,
} from './vendor/provisioner-sdk/index.js';

const property = (key, label, description, kind, required, secret) => ({
  key,
  label,
  description,
  kind,
  required,
  secret,
  defaultValue: undefined,
  options: [],
});

const METADATA = {
  id: '{{name}}',
  name: '{{name}}',
  version: '0.1.0',
  description: 'Provisions users into the {{name}} REST API.',
  entityKinds: ['user'],
  properties: [
    property('endpoint', 'Endpoint', "Base URL of the target's REST API, e.g. https://api.example.com/v1.", 'url', true, false),
    property('api-token', 'API token', 'Sent as `Authorization: Bearer <token>` by the host.', 'text', false, true),
  ],
  maxBatchSize: 1,
};

/** Endpoint and credential of a target. */
function target(config) {
  const reader = configReader(config);
  const token = reader.secret('api-token');
  return { endpoint: reader.requireUrl('endpoint'), credential: token && bearer(token.key) };
}

/** The body sent on create and update. */
function body(user) {
  const claims = {};
  for (const claim of user.claims) {
    claims[claim.uri] = claim.values.length === 1 ? claim.values[0] : claim.values;
  }
  return { userName: user.name, externalId: user.localId, claims };
}

function remoteIdOf(response) {
  const id = json(response).id;
  if (id === undefined || id === null) return undefined;
  return String(id);
}

function provisionUser(config, operation, user) {
  const { endpoint, credential } = target(config);
  if (operation === 'create') {
    const response = sendOk('post', `${endpoint}/users`, { json: body(user), credential });
    return { remoteId: remoteIdOf(response), warnings: [] };
  }
  if (user.remoteId === undefined) {
    if (operation === 'delete') return { remoteId: undefined, warnings: [] };
    throw errors.notFound(`user ${user.name} has no remote id in this target: create it first`);
  }
  const url = `${endpoint}/users/${encodeURIComponent(user.remoteId)}`;
  if (operation === 'update') {
    sendOk('put', url, { json: body(user), credential });
    return { remoteId: user.remoteId, warnings: [] };
  }
  const response = send('delete', url, { credential });
  if (response.status === 404 || (response.status >= 200 && response.status <= 299)) {
    return { remoteId: undefined, warnings: [] };
  }
  throw fromStatus('delete', response);
}

function provisionChange(config, change) {
  if (change.entity.tag !== 'user') throw errors.unsupported('{{name}} provisions users only');
  return provisionUser(config, change.operation, change.entity.val);
}

function lookupUserName(key) {
  if (key.tag === 'entity') {
    if (key.val.tag !== 'user') throw errors.unsupported('{{name}} looks up users only');
    return key.val.val.name;
  }
  if (key.val.kind !== 'user' || key.val.attribute !== 'userName') {
    throw errors.unsupported(`{{name}} looks users up by userName only, not by ${key.val.attribute}`);
  }
  return key.val.value;
}

export const provisioning = {
  metadata() {
    return METADATA;
  },

  validate(config) {
    return validateWith(config, (reader) => {
      reader.requireUrl('endpoint');
    });
  },

  provision(config, change) {
    return guard(() => provisionChange(config, change));
  },

  provisionBatch(config, changes) {
    const results = [];
    for (const change of changes) {
      try {
        results.push({ tag: 'ok', val: guard(() => provisionChange(config, change)) });
      } catch (error) {
        results.push({ tag: 'err', val: error });
      }
    }
    return results;
  },

  listEntities() {
    throw errors.unsupported('{{name}} cannot list users');
  },

  lookup(config, key) {
    return guard(() => {
      const userName = lookupUserName(key);
      const { endpoint, credential } = target(config);
      const response = send('get', `${endpoint}/users?userName=${encodeURIComponent(userName)}`, { credential });
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw fromStatus('get', response);
      const id = remoteIdOf(response);
      if (id === undefined) return undefined;
      return { remoteId: id, active: undefined, attributes: [['userName', userName]] };
    });
  },
};
