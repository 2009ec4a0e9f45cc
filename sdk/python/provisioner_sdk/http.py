"""Requests through the contract's `http` import. The host performs them under the target's
egress policy and attaches the named credential; the connector never sees a secret."""

import json
from typing import Any, List, Optional, Tuple

from componentize_py_types import Err
from wit_world.imports import http, types

from . import errors
from .status import from_http_error, from_status


def bearer(key: str) -> http.Credential:
    """The `bearer` credential for the secret property `key`."""
    return http.Credential_Bearer(types.SecretRef(key=key))


def basic(username: str, password_key: str) -> http.Credential:
    """The `basic` credential: `username` and the secret property `password_key`."""
    return http.Credential_Basic(http.BasicCredential(username=username, password=types.SecretRef(key=password_key)))


def secret_header(name: str, key: str) -> http.Credential:
    """The `header` credential: header `name` carrying the secret property `key`."""
    return http.Credential_Header(http.SecretHeader(name=name, value=types.SecretRef(key=key)))


def send(
    method: http.Method,
    url: str,
    json_body: Any = None,
    body: Optional[bytes] = None,
    headers: Optional[List[Tuple[str, str]]] = None,
    credential: Optional[http.Credential] = None,
    timeout_ms: Optional[int] = None,
) -> http.Response:
    """Sends one request and returns the response whatever its status. A transport failure
    (`http-error`) is raised as the shared mapping's `Err(provision-error)`."""
    all_headers = list(headers or [])
    if json_body is not None:
        body = json.dumps(json_body).encode("utf-8")
        all_headers.append(("content-type", "application/json"))
    if not any(name.lower() == "accept" for name, _ in all_headers):
        all_headers.append(("accept", "application/json"))
    request = http.Request(
        method=method, url=url, headers=all_headers, body=body, credential=credential, timeout_ms=timeout_ms)
    try:
        return http.send(request)
    except Err as failure:
        raise from_http_error(method, failure.value) from None


def is_success(response: http.Response) -> bool:
    """Whether the status is 2xx."""
    return 200 <= response.status <= 299


def send_ok(method: http.Method, url: str, **options) -> http.Response:
    """Like `send`, but a non-2xx response is raised as the shared mapping's error."""
    response = send(method, url, **options)
    if not is_success(response):
        raise from_status(method, response)
    return response


def json_body(response: http.Response) -> Any:
    """The response body parsed as JSON; a body that is not JSON raises `permanent`."""
    try:
        return json.loads(bytes(response.body))
    except ValueError:
        excerpt = bytes(response.body[:200]).decode("utf-8", "replace")
        raise errors.permanent(
            f"HTTP {response.status}: response body is not JSON: {excerpt}", http_status=response.status) from None
