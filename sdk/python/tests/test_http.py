"""Request helpers over the contract's `http` import (a scripted stand-in replaces `http.send`)."""

import json
import unittest
from unittest import mock

from componentize_py_types import Err
from wit_world.imports import http, types

from provisioner_sdk import http as sdk_http


class Send(unittest.TestCase):
    def answer(self, result):
        """Patches the import: records requests, answers `result` (an HttpError is raised)."""
        self.requests = []

        def send(request):
            self.requests.append(request)
            if isinstance(result, http.Response):
                return result
            raise Err(result)

        patcher = mock.patch.object(http, "send", send)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_builds_the_contract_request(self):
        self.answer(http.Response(status=201, headers=[], body=b'{"id":"r-1"}'))
        response = sdk_http.send(http.Method.POST, "https://api.example.com/users",
                                 json_body={"userName": "ada"}, credential=sdk_http.bearer("api-token"))
        self.assertEqual(sdk_http.json_body(response)["id"], "r-1")
        request = self.requests[0]
        self.assertEqual(request.method, http.Method.POST)
        self.assertEqual(json.loads(request.body), {"userName": "ada"})
        self.assertEqual(request.headers, [("content-type", "application/json"), ("accept", "application/json")])
        self.assertEqual(request.credential, http.Credential_Bearer(types.SecretRef(key="api-token")))

    def test_send_ok_raises_the_mapped_error(self):
        self.answer(http.Response(status=503, headers=[], body=b"down"))
        with self.assertRaises(Err) as raised:
            sdk_http.send_ok(http.Method.PUT, "https://api.example.com/users/1")
        error = raised.exception.value
        self.assertIsInstance(error, types.ProvisionError_Transient)
        self.assertTrue(error.value.outcome_unknown)
        self.assertEqual(error.value.detail.message, "PUT answered HTTP 503: down")

    def test_transport_error_is_raised_as_the_mapped_error(self):
        self.answer(http.HttpError_ConnectionFailed(http.ConnectionFailure(message="refused", sent=False)))
        with self.assertRaises(Err) as raised:
            sdk_http.send(http.Method.POST, "https://api.example.com/users")
        self.assertIsInstance(raised.exception.value, types.ProvisionError_Transient)
        self.assertFalse(raised.exception.value.value.outcome_unknown)

    def test_json_body_refuses_non_json(self):
        with self.assertRaises(Err) as raised:
            sdk_http.json_body(http.Response(status=200, headers=[], body=b"<html>"))
        self.assertIsInstance(raised.exception.value, types.ProvisionError_Permanent)
        self.assertEqual(raised.exception.value.value.http_status, 200)


if __name__ == "__main__":
    unittest.main()
