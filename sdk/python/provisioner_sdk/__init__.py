"""provisioner-sdk for Python connectors (contract provisioning:connector@0.2.0, built with
componentize-py). It imports the bindings componentize-py generates (`wit_world`), so it runs
inside a component, or natively next to bindings made with `componentize-py bindings`.

- `config`: a typed reader of the connector configuration, errors naming the key;
- `errors`: constructors of `provision-error` as the `Err(...)` the bindings expect;
- `status`: THE shared mapping of HTTP statuses and transport errors to `provision-error`;
- `http`: requests through the contract's `http` import.
"""

from . import config, errors, http, status
from .config import ConfigError, ConfigReader, claim_value, claim_values, validate_with
from .errors import guard, to_provision_error
from .http import basic, bearer, json_body, secret_header, send, send_ok
from .status import from_http_error, from_status, retry_after_ms

__all__ = [
    "config", "errors", "http", "status", "ConfigError", "ConfigReader", "claim_value",
    "claim_values", "validate_with", "guard", "to_provision_error", "basic", "bearer",
    "json_body", "secret_header", "send", "send_ok", "from_http_error", "from_status",
    "retry_after_ms",
]
