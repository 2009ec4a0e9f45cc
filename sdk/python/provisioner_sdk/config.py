"""Typed reader of a connector configuration (the contract's `connector-config`). Every error
names the key at fault and says how to fix it."""

import re
from typing import Callable, List, Optional, Sequence
from urllib.parse import urlsplit

from wit_world.imports import types


class ConfigError(Exception):
    """A configuration value is missing or has the wrong shape; `key` names the property."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key
        self.message = message

    def to_problem(self) -> types.ConfigProblem:
        """The contract's `config-problem` for this error."""
        return types.ConfigProblem(key=self.key, message=self.message)


_KIND = {
    types.ConfigValue_Text: "text",
    types.ConfigValue_Boolean: "boolean",
    types.ConfigValue_Integer: "integer",
    types.ConfigValue_Secret: "secret reference",
    types.ConfigValue_ClaimMappings: "claim mappings",
}

_UNSET = object()


class ConfigReader:
    """Reads typed values out of one connector configuration."""

    def __init__(self, config: types.ConnectorConfig):
        self.config = config
        self.tenant = config.tenant
        self.target = config.target

    def raw(self, key: str):
        """The raw `config-value` of `key`, or None when unset."""
        for entry in self.config.entries:
            if entry.key == key:
                return entry.value
        return None

    def _typed(self, key: str, case):
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, case):
            raise ConfigError(
                key,
                f"`{key}` holds a {_KIND.get(type(value), type(value).__name__)} value, expected "
                f"{_KIND[case]}: fix the property's value in the target configuration",
            )
        return value.value

    @staticmethod
    def _required(key: str, value, what: str):
        if value is None:
            raise ConfigError(key, f"`{key}` is not set: give the target a {what} value for it")
        return value

    def text(self, key: str, default: Optional[str] = None) -> Optional[str]:
        """A text value, or `default` when unset."""
        value = self._typed(key, types.ConfigValue_Text)
        return default if value is None else value

    def require_text(self, key: str) -> str:
        """A text value that must be set."""
        return self._required(key, self.text(key), "text")

    def bool(self, key: str, default: Optional[bool] = None) -> Optional[bool]:
        """A boolean (`boolean`, or text `true`/`false`), or `default` when unset."""
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, types.ConfigValue_Text) and value.value in ("true", "false"):
            return value.value == "true"
        return self._typed(key, types.ConfigValue_Boolean)

    def int(self, key: str, default: Optional[int] = None) -> Optional[int]:
        """An integer (`integer`, or decimal text), or `default` when unset."""
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, types.ConfigValue_Text):
            if not re.fullmatch(r"-?\d+", value.value.strip()):
                raise ConfigError(
                    key, f"`{key}` is `{value.value}`, not an integer: write a whole number such as 30"
                )
            return int(value.value)
        return self._typed(key, types.ConfigValue_Integer)

    def url(self, key: str, default: Optional[str] = None) -> Optional[str]:
        """An absolute http(s) URL without a trailing slash, or `default` when unset."""
        text = self.text(key)
        if text is None:
            return default
        parts = urlsplit(text)
        if not parts.scheme or not parts.netloc:
            raise ConfigError(
                key, f"`{key}` is `{text}`, not an absolute URL: write it as https://host[:port][/path]"
            )
        if parts.scheme not in ("http", "https"):
            raise ConfigError(key, f"`{key}` is `{text}`: only http and https URLs are allowed")
        return text.rstrip("/")

    def require_url(self, key: str) -> str:
        """An absolute http(s) URL that must be set."""
        return self._required(key, self.url(key), "URL")

    def choice(self, key: str, options: Sequence[str], default: Optional[str] = None) -> Optional[str]:
        """One of `options`, or `default` when unset."""
        text = self.text(key)
        if text is None:
            return default
        if text not in options:
            raise ConfigError(key, f"`{key}` is `{text}`: choose one of {', '.join(options)}")
        return text

    def secret(self, key: str) -> Optional[types.SecretRef]:
        """The `secret-ref` of a secret property, or None when unset."""
        return self._typed(key, types.ConfigValue_Secret)

    def require_secret(self, key: str) -> types.SecretRef:
        """The `secret-ref` of a secret property that must be set."""
        return self._required(key, self.secret(key), "secret")

    def claim_mappings(self, key: str) -> List[types.ClaimMapping]:
        """The claim mappings of `key`; empty when unset."""
        return self._typed(key, types.ConfigValue_ClaimMappings) or []


def validate_with(
    config: types.ConnectorConfig, check: Callable[[ConfigReader], Optional[List[types.ConfigProblem]]]
) -> List[types.ConfigProblem]:
    """Runs `check(reader)` for `validate`: a raised ConfigError becomes the one problem
    reported; `check` may also return a list of further problems."""
    try:
        return check(ConfigReader(config)) or []
    except ConfigError as error:
        return [error.to_problem()]


def claim_value(user: types.User, uri: str) -> Optional[str]:
    """The first value of the claim `uri` of a user, or None."""
    for claim in user.claims:
        if claim.uri == uri:
            return claim.values[0] if claim.values else None
    return None


def claim_values(user: types.User, uri: str) -> List[str]:
    """Every value of the claim `uri` of a user; empty when absent."""
    for claim in user.claims:
        if claim.uri == uri:
            return list(claim.values)
    return []
