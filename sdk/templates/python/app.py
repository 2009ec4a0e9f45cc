"""The {{name}} connector: provisions users into a REST API over the contract
provisioning:connector@0.2.0. Build: see README.md.

  create  POST   {endpoint}/users            {"userName", "externalId", "claims"} -> {"id"}
  update  PUT    {endpoint}/users/{id}       same body
  delete  DELETE {endpoint}/users/{id}       (404: already gone)
  lookup  GET    {endpoint}/users?userName=  200 {"id"} -> found, 404 -> none

Every error goes through the SDK's shared HTTP-status mapping; whatever `provision`, `lookup` or
`list_entities` raises must be `Err(provision-error)` (the SDK's `guard` makes sure).
"""

from typing import List, Optional
from urllib.parse import quote

from componentize_py_types import Err, Ok, Result
from wit_world import exports
from wit_world.imports import types
from wit_world.imports.http import Method

from provisioner_sdk import ConfigReader, bearer, errors, from_status, guard, json_body, send, send_ok, validate_with


def _property(key: str, label: str, description: str, kind: types.PropertyKind, required: bool,
              secret: bool) -> types.ConfigProperty:
    return types.ConfigProperty(key=key, label=label, description=description, kind=kind,
                                required=required, secret=secret, default_value=None, options=[])


METADATA = types.ConnectorMetadata(
    id="{{name}}",
    name="{{name}}",
    version="0.1.0",
    description="Provisions users into the {{name}} REST API.",
    entity_kinds=[types.EntityKind.USER],
    properties=[
        _property("endpoint", "Endpoint", "Base URL of the target's REST API, e.g. https://api.example.com/v1.",
                  types.PropertyKind.URL, True, False),
        _property("api-token", "API token", "Sent as `Authorization: Bearer <token>` by the host.",
                  types.PropertyKind.TEXT, False, True),
    ],
    max_batch_size=1,
)


def _target(config: types.ConnectorConfig):
    """Endpoint and credential of a target."""
    reader = ConfigReader(config)
    token = reader.secret("api-token")
    return reader.require_url("endpoint"), bearer(token.key) if token else None


def _body(user: types.User) -> dict:
    """The body sent on create and update."""
    claims = {c.uri: c.values[0] if len(c.values) == 1 else list(c.values) for c in user.claims}
    return {"userName": user.name, "externalId": user.local_id, "claims": claims}


def _remote_id(response) -> Optional[str]:
    value = json_body(response).get("id")
    return None if value is None else str(value)


def _provision_user(config: types.ConnectorConfig, operation: types.Operation,
                    user: types.User) -> types.ProvisionOutcome:
    endpoint, credential = _target(config)
    if operation == types.Operation.CREATE:
        response = send_ok(Method.POST, f"{endpoint}/users", json_body=_body(user), credential=credential)
        return types.ProvisionOutcome(remote_id=_remote_id(response), warnings=[])
    if user.remote_id is None:
        if operation == types.Operation.DELETE:
            return types.ProvisionOutcome(remote_id=None, warnings=[])
        raise errors.not_found(f"user {user.name} has no remote id in this target: create it first")
    url = f"{endpoint}/users/{quote(user.remote_id, safe='')}"
    if operation == types.Operation.UPDATE:
        send_ok(Method.PUT, url, json_body=_body(user), credential=credential)
        return types.ProvisionOutcome(remote_id=user.remote_id, warnings=[])
    response = send(Method.DELETE, url, credential=credential)
    if response.status == 404 or 200 <= response.status <= 299:
        return types.ProvisionOutcome(remote_id=None, warnings=[])
    raise from_status(Method.DELETE, response)


def _provision(config: types.ConnectorConfig, change: types.Change) -> types.ProvisionOutcome:
    if not isinstance(change.entity, types.Entity_User):
        raise errors.unsupported("{{name}} provisions users only")
    return _provision_user(config, change.operation, change.entity.value)


def _lookup_user_name(key: types.LookupKey) -> str:
    if isinstance(key, types.LookupKey_Entity):
        if not isinstance(key.value, types.Entity_User):
            raise errors.unsupported("{{name}} looks up users only")
        return key.value.value.name
    match = key.value
    if match.kind != types.EntityKind.USER or match.attribute != "userName":
        raise errors.unsupported(f"{{name}} looks users up by userName only, not by {match.attribute}")
    return match.value


def _lookup(config: types.ConnectorConfig, key: types.LookupKey) -> Optional[types.RemoteObject]:
    user_name = _lookup_user_name(key)
    endpoint, credential = _target(config)
    response = send(Method.GET, f"{endpoint}/users?userName={quote(user_name, safe='')}", credential=credential)
    if response.status == 404:
        return None
    if response.status != 200:
        raise from_status(Method.GET, response)
    remote_id = _remote_id(response)
    if remote_id is None:
        return None
    return types.RemoteObject(remote_id=remote_id, active=None, attributes=[("userName", user_name)])


class Provisioning(exports.Provisioning):
    """The exported `provisioning` interface."""

    def metadata(self) -> types.ConnectorMetadata:
        return METADATA

    def validate(self, config: types.ConnectorConfig) -> List[types.ConfigProblem]:
        return validate_with(config, lambda reader: reader.require_url("endpoint") and None)

    def provision(self, config: types.ConnectorConfig, change: types.Change) -> types.ProvisionOutcome:
        return guard(lambda: _provision(config, change))

    def provision_batch(self, config: types.ConnectorConfig,
                        changes: List[types.Change]) -> List[Result[types.ProvisionOutcome, types.ProvisionError]]:
        results: List[Result[types.ProvisionOutcome, types.ProvisionError]] = []
        for change in changes:
            try:
                results.append(Ok(guard(lambda: _provision(config, change))))
            except Err as error:
                results.append(error)
        return results

    def list_entities(self, config: types.ConnectorConfig, request: types.ListRequest) -> types.RemotePage:
        raise errors.unsupported("{{name}} cannot list users")

    def lookup(self, config: types.ConnectorConfig, key: types.LookupKey) -> Optional[types.RemoteObject]:
        return guard(lambda: _lookup(config, key))
