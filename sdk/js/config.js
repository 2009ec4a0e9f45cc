// Typed reader of a connector configuration (`connector-config` of the contract, as
// componentize-js passes it: `{ tenant, target, entries: [{ key, value: { tag, val } }] }`).
// Every error names the key at fault and says how to fix it.

/** A configuration value is missing or has the wrong shape. `key` names the property. */
export class ConfigError extends Error {
  /** @param {string} key the property at fault  @param {string} message what is wrong */
  constructor(key, message) {
    super(message);
    this.name = 'ConfigError';
    this.key = key;
  }

  /** The contract's `config-problem` for this error. */
  toProblem() {
    return { key: this.key, message: this.message };
  }
}

const KIND_OF_TAG = {
  text: 'text',
  boolean: 'boolean',
  integer: 'integer',
  secret: 'secret reference',
  'claim-mappings': 'claim mappings',
};

/** Reads typed values out of one connector configuration. */
export class ConfigReader {
  /** @param {{tenant: string, target: string, entries: {key: string, value: {tag: string, val: any}}[]}} config */
  constructor(config) {
    this.config = config;
    this.tenant = config.tenant;
    this.target = config.target;
  }

  /** The raw `{tag, val}` value of `key`, or undefined when unset. */
  raw(key) {
    const entry = this.config.entries.find((e) => e.key === key);
    return entry === undefined ? undefined : entry.value;
  }

  #typed(key, tag) {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (value.tag !== tag) {
      throw new ConfigError(
        key,
        `\`${key}\` holds a ${KIND_OF_TAG[value.tag] ?? value.tag} value, expected ${KIND_OF_TAG[tag]}: fix the property's value in the target configuration`,
      );
    }
    return value.val;
  }

  #required(key, value, what) {
    if (value === undefined) {
      throw new ConfigError(key, `\`${key}\` is not set: give the target a ${what} value for it`);
    }
    return value;
  }

  /** A text value, or `fallback` (default undefined) when unset. */
  text(key, fallback = undefined) {
    return this.#typed(key, 'text') ?? fallback;
  }

  /** A text value that must be set. */
  requireText(key) {
    return this.#required(key, this.text(key), 'text');
  }

  /** A boolean value (`boolean`, or text `true`/`false`), or `fallback` when unset. */
  bool(key, fallback = undefined) {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    if (value.tag === 'text' && (value.val === 'true' || value.val === 'false')) {
      return value.val === 'true';
    }
    return this.#typed(key, 'boolean');
  }

  /** An integer value as a JS number (`integer`, or decimal text), or `fallback` when unset. */
  int(key, fallback = undefined) {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    if (value.tag === 'text') {
      if (!/^-?\d+$/.test(value.val.trim())) {
        throw new ConfigError(key, `\`${key}\` is \`${value.val}\`, not an integer: write a whole number such as 30`);
      }
      return Number.parseInt(value.val, 10);
    }
    return Number(this.#typed(key, 'integer'));
  }

  /** An absolute http(s) URL without a trailing slash, or `fallback` when unset. */
  url(key, fallback = undefined) {
    const text = this.text(key);
    if (text === undefined) return fallback;
    let parsed;
    try {
      parsed = new URL(text);
    } catch {
      throw new ConfigError(key, `\`${key}\` is \`${text}\`, not an absolute URL: write it as https://host[:port][/path]`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ConfigError(key, `\`${key}\` is \`${text}\`: only http and https URLs are allowed`);
    }
    return text.replace(/\/+$/, '');
  }

  /** An absolute http(s) URL that must be set. */
  requireUrl(key) {
    return this.#required(key, this.url(key), 'URL');
  }

  /** One of `options` (compared exactly), or `fallback` when unset. */
  choice(key, options, fallback = undefined) {
    const text = this.text(key);
    if (text === undefined) return fallback;
    if (!options.includes(text)) {
      throw new ConfigError(key, `\`${key}\` is \`${text}\`: choose one of ${options.join(', ')}`);
    }
    return text;
  }

  /** The `secret-ref` of a secret property, or undefined when unset. */
  secret(key) {
    return this.#typed(key, 'secret');
  }

  /** The `secret-ref` of a secret property that must be set. */
  requireSecret(key) {
    return this.#required(key, this.secret(key), 'secret');
  }

  /** The claim mappings of `key` (`[{targetField, claim, defaultValue}]`); empty when unset. */
  claimMappings(key) {
    return this.#typed(key, 'claim-mappings') ?? [];
  }
}

/** A reader over `config`. */
export function configReader(config) {
  return new ConfigReader(config);
}

/**
 * Runs `check(reader)` for `validate`: a thrown ConfigError becomes the one problem reported;
 * `check` may also return a list of further `{key, message}` problems.
 */
export function validateWith(config, check) {
  try {
    return check(new ConfigReader(config)) ?? [];
  } catch (error) {
    if (error instanceof ConfigError) return [error.toProblem()];
    throw error;
  }
}

/** The first value of the claim `uri` of a user (`{claims: [{uri, values}]}`), or undefined. */
export function claimValue(user, uri) {
  const claim = user.claims.find((c) => c.uri === uri);
  return claim === undefined ? undefined : claim.values[0];
}

/** Every value of the claim `uri` of a user; empty when absent. */
export function claimValues(user, uri) {
  const claim = user.claims.find((c) => c.uri === uri);
  return claim === undefined ? [] : claim.values;
}
