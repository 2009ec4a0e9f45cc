"""Constructors of the contract's `provision-error`, as componentize-py needs them: each returns
`Err(ProvisionError_<Case>(...))` of the generated types. Raise them from `provision`, `lookup`
and `list_entities` (anything else raised traps the call), or put them in `provision_batch`
results as they are."""

from typing import Callable, List, Optional, TypeVar

from componentize_py_types import Err
from wit_world.imports import types

T = TypeVar("T")


def detail(
    message: str,
    target_code: Optional[str] = None,
    fields: Optional[List[str]] = None,
    http_status: Optional[int] = None,
) -> types.ErrorDetail:
    """The contract's `error-detail`."""
    return types.ErrorDetail(
        message=message, target_code=target_code, fields=list(fields or []), http_status=http_status
    )


def transient(message: str, outcome_unknown: bool = False, **extra) -> Err:
    """`transient`: retried with backoff; `outcome_unknown` when a write may have been applied."""
    return Err(types.ProvisionError_Transient(
        types.TransientError(detail=detail(message, **extra), outcome_unknown=outcome_unknown)))


def rate_limited(message: str, retry_after_ms: Optional[int] = None, **extra) -> Err:
    """`rate-limited`: retried after `retry_after_ms` when given."""
    return Err(types.ProvisionError_RateLimited(
        types.RateLimitError(detail=detail(message, **extra), retry_after_ms=retry_after_ms)))


def quota_exhausted(message: str, retry_after_ms: Optional[int] = None, **extra) -> Err:
    """`quota-exhausted`: the target is paused until the quota resets."""
    return Err(types.ProvisionError_QuotaExhausted(
        types.RateLimitError(detail=detail(message, **extra), retry_after_ms=retry_after_ms)))


def auth_failed(message: str, **extra) -> Err:
    """`auth-failed`: credentials refused; the host pauses the target."""
    return Err(types.ProvisionError_AuthFailed(detail(message, **extra)))


def conflict(message: str, existing_remote_id: Optional[str] = None, **extra) -> Err:
    """`conflict`: the entity exists remotely, with its id when known."""
    return Err(types.ProvisionError_Conflict(
        types.ConflictError(detail=detail(message, **extra), existing_remote_id=existing_remote_id)))


def invalid_data(message: str, **extra) -> Err:
    """`invalid-data`: the data was refused; fix it and replay."""
    return Err(types.ProvisionError_InvalidData(detail(message, **extra)))


def not_found(message: str, **extra) -> Err:
    """`not-found`: the remote entity does not exist."""
    return Err(types.ProvisionError_NotFound(detail(message, **extra)))


def unsupported(message: str, **extra) -> Err:
    """`unsupported`: this connector or target cannot do the operation."""
    return Err(types.ProvisionError_Unsupported(detail(message, **extra)))


def permanent(message: str, **extra) -> Err:
    """`permanent`: any other failure that retrying cannot fix."""
    return Err(types.ProvisionError_Permanent(detail(message, **extra)))


def to_provision_error(raised: BaseException) -> Err:
    """An `Err(provision-error)` for anything raised: provision errors pass through, a
    ConfigError becomes `permanent` naming the key, anything else `permanent` with its text."""
    from .config import ConfigError

    if isinstance(raised, Err):
        return raised
    if isinstance(raised, ConfigError):
        return permanent(f"configuration: {raised.message}", fields=[raised.key])
    return permanent(f"connector error: {type(raised).__name__}: {raised}")


def guard(body: Callable[[], T]) -> T:
    """Runs `body()` and re-raises whatever it raises as `Err(provision-error)`, the only
    exception the bindings turn into an `err` result."""
    try:
        return body()
    except Exception as raised:  # every failure must leave typed
        raise to_provision_error(raised) from None
