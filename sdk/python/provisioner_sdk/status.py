"""THE shared mapping of HTTP outcomes to `provision-error` (the same table as the Rust SDK's
`error::from_status` and the JavaScript SDK's `fromStatus`):

- 400, 422 -> invalid-data; 401, 403 -> auth-failed; 404 -> not-found;
- 409 -> conflict (existing remote id from the body's "id");
- 429 -> rate-limited (retry-after-ms from Retry-After: delta seconds or HTTP-date);
- 500..=599 -> transient, outcome-unknown when the request was a write;
- any other non-2xx -> permanent;

and of transport errors (`http-error`): timeout -> transient (outcome-unknown = write);
connection-failed -> transient (outcome-unknown = sent and write); response-too-large, denied,
invalid-request -> permanent; token-refused -> auth-failed.
"""

import json
import time
from email.utils import parsedate_to_datetime
from typing import List, Optional, Tuple

from componentize_py_types import Err
from wit_world.imports import http

from . import errors

BODY_EXCERPT_BYTES = 200
"""How many bytes of a response body an error message quotes at most."""

_WRITES = {http.Method.POST, http.Method.PUT, http.Method.PATCH, http.Method.DELETE}


def is_write(method: http.Method) -> bool:
    """Whether `method` may change the target."""
    return method in _WRITES


def header(headers: List[Tuple[str, str]], name: str) -> Optional[str]:
    """The value of header `name` (case-insensitive), or None."""
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def retry_after_ms(value: Optional[str], now: Optional[float] = None) -> Optional[int]:
    """Milliseconds to wait from a `Retry-After` value: delta seconds or an HTTP-date (past
    dates give 0); None when absent or unreadable. `now` is epoch seconds."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text) * 1000
    try:
        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0, int(round((when - current) * 1000)))


def method_name(method: http.Method) -> str:
    """The upper-case name of `method` (`POST`)."""
    return method.name


def body_excerpt(body: bytes) -> str:
    """The body as text (invalid UTF-8 replaced), trimmed, cut to at most BODY_EXCERPT_BYTES
    bytes (never inside a character) and marked `...` when cut."""
    text = bytes(body).decode("utf-8", "replace").strip()
    encoded = text.encode("utf-8")
    if len(encoded) <= BODY_EXCERPT_BYTES:
        return text
    return encoded[:BODY_EXCERPT_BYTES].decode("utf-8", "ignore") + "..."


def _existing_id(body: bytes) -> Optional[str]:
    try:
        value = json.loads(bytes(body)).get("id")
    except (ValueError, AttributeError):
        return None
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def from_status(method: http.Method, response: http.Response, now: Optional[float] = None) -> Err:
    """The `Err(provision-error)` for a non-2xx `response` to a request sent with `method`. Its
    message is the status and a bounded excerpt of the body; `http_status` is set."""
    status = response.status
    excerpt = body_excerpt(response.body)
    message = f"{method_name(method)} answered HTTP {status}" + (f": {excerpt}" if excerpt else "")
    if status in (400, 422):
        return errors.invalid_data(message, http_status=status)
    if status in (401, 403):
        return errors.auth_failed(message, http_status=status)
    if status == 404:
        return errors.not_found(message, http_status=status)
    if status == 409:
        return errors.conflict(message, existing_remote_id=_existing_id(response.body), http_status=status)
    if status == 429:
        wait = retry_after_ms(header(response.headers, "retry-after"), now)
        return errors.rate_limited(message, retry_after_ms=wait, http_status=status)
    if 500 <= status <= 599:
        return errors.transient(message, outcome_unknown=is_write(method), http_status=status)
    return errors.permanent(message, http_status=status)


def from_http_error(method: http.Method, error) -> Err:
    """The `Err(provision-error)` for an `http-error` of a request sent with `method`."""
    write = is_write(method)
    name = method_name(method)
    if isinstance(error, http.HttpError_Denied):
        return errors.permanent(
            f"{name} was refused by the host's egress policy: {error.value}; the URL's origin "
            "must be one the operator configured")
    if isinstance(error, http.HttpError_InvalidRequest):
        return errors.permanent(f"{name} request is malformed: {error.value}")
    if isinstance(error, http.HttpError_Timeout):
        return errors.transient(f"{name} got no complete response in time", outcome_unknown=write)
    if isinstance(error, http.HttpError_ConnectionFailed):
        return errors.transient(
            f"{name} failed to connect: {error.value.message}", outcome_unknown=error.value.sent and write)
    if isinstance(error, http.HttpError_ResponseTooLarge):
        return errors.permanent(f"{name} response exceeded the host's cap of {error.value} bytes")
    if isinstance(error, http.HttpError_TokenRefused):
        refused = error.value
        return errors.auth_failed(
            f"the token endpoint refused the grant: {refused.error} {refused.description}",
            target_code=refused.error, http_status=refused.status)
    return errors.permanent(f"{name} failed with an unknown http error {type(error).__name__}")
