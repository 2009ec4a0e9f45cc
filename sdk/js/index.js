// provisioner-sdk for JavaScript connectors (contract provisioning:connector@0.2.0, built with
// componentize-js `-d http -d fetch-event`). See README.md.
export { ConfigError, ConfigReader, configReader, validateWith, claimValue, claimValues } from './config.js';
export * as errors from './errors.js';
export { guard, toProvisionError, isProvisionError } from './errors.js';
export { fromStatus, fromHttpError, retryAfterMs, isWrite, header, bodyExcerpt, methodName } from './status.js';
export { send, sendOk, json, isSuccess, bearer, basic, secretHeader } from './http.js';
