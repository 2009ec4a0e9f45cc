"""The shared HTTP-status-to-error mapping and the error constructors' shapes."""

import unittest
from email.utils import formatdate

from componentize_py_types import Err
from wit_world.imports import http, types

from provisioner_sdk import errors, status

M = http.Method


def response(code, body=b"", headers=()):
    return http.Response(status=code, headers=list(headers), body=body)


class StatusMapping(unittest.TestCase):
    def test_statuses_map_to_the_shared_cases(self):
        cases = {
            400: types.ProvisionError_InvalidData, 422: types.ProvisionError_InvalidData,
            401: types.ProvisionError_AuthFailed, 403: types.ProvisionError_AuthFailed,
            404: types.ProvisionError_NotFound, 409: types.ProvisionError_Conflict,
            429: types.ProvisionError_RateLimited, 500: types.ProvisionError_Transient,
            503: types.ProvisionError_Transient, 599: types.ProvisionError_Transient,
            302: types.ProvisionError_Permanent, 418: types.ProvisionError_Permanent,
            600: types.ProvisionError_Permanent,
        }
        for code, case in cases.items():
            error = status.from_status(M.GET, response(code))
            self.assertIsInstance(error, Err, code)
            self.assertIsInstance(error.value, case, code)

    def test_detail_carries_status_and_bounded_excerpt(self):
        detail = status.from_status(M.GET, response(400, b"x" * 5000)).value.value
        self.assertEqual(detail.http_status, 400)
        self.assertEqual(detail.message, "GET answered HTTP 400: " + "x" * 200 + "...")
        self.assertEqual(status.from_status(M.DELETE, response(404, b"  \n")).value.value.message,
                         "DELETE answered HTTP 404")

    def test_excerpt_never_splits_a_character(self):
        self.assertEqual(status.body_excerpt(("a" + "é" * 150).encode()), "a" + "é" * 99 + "...")
        self.assertEqual(status.body_excerpt(b" short\n"), "short")

    def test_5xx_is_of_unknown_outcome_only_for_writes(self):
        for method in (M.POST, M.PUT, M.PATCH, M.DELETE):
            error = status.from_status(method, response(502)).value.value
            self.assertTrue(error.outcome_unknown, method)
            self.assertEqual(error.detail.http_status, 502)
        for method in (M.GET, M.HEAD):
            self.assertFalse(status.from_status(method, response(502)).value.value.outcome_unknown)

    def test_409_carries_the_existing_id(self):
        self.assertEqual(status.from_status(M.POST, response(409, b'{"id":"r-7"}')).value.value.existing_remote_id, "r-7")
        self.assertEqual(status.from_status(M.POST, response(409, b'{"id":42}')).value.value.existing_remote_id, "42")
        self.assertIsNone(status.from_status(M.POST, response(409, b"nope")).value.value.existing_remote_id)
        self.assertIsNone(status.from_status(M.POST, response(409, b'{"id":""}')).value.value.existing_remote_id)

    def test_429_reads_retry_after_seconds_or_date(self):
        seconds = status.from_status(M.POST, response(429, headers=[("Retry-After", "7")]))
        self.assertEqual(seconds.value.value.retry_after_ms, 7000)
        now = 1_800_000_000.0
        dated = status.from_status(
            M.POST, response(429, headers=[("retry-after", formatdate(now + 30, usegmt=True))]), now)
        self.assertEqual(dated.value.value.retry_after_ms, 30000)
        self.assertIsNone(status.from_status(M.POST, response(429)).value.value.retry_after_ms)
        self.assertIsNone(status.retry_after_ms("soon"))
        self.assertEqual(status.retry_after_ms(formatdate(now - 60, usegmt=True), now), 0)

    def test_transport_errors_map_to_the_shared_cases(self):
        timeout = http.HttpError_Timeout()
        self.assertTrue(status.from_http_error(M.POST, timeout).value.value.outcome_unknown)
        self.assertFalse(status.from_http_error(M.GET, timeout).value.value.outcome_unknown)

        def failed(sent, method):
            failure = http.HttpError_ConnectionFailed(http.ConnectionFailure(message="reset", sent=sent))
            return status.from_http_error(method, failure).value

        self.assertIsInstance(failed(True, M.PUT), types.ProvisionError_Transient)
        self.assertTrue(failed(True, M.PUT).value.outcome_unknown)
        self.assertFalse(failed(False, M.PUT).value.outcome_unknown)
        self.assertFalse(failed(True, M.GET).value.outcome_unknown)
        for error in (http.HttpError_ResponseTooLarge(1024), http.HttpError_Denied("origin"),
                      http.HttpError_InvalidRequest("bad url")):
            self.assertIsInstance(status.from_http_error(M.GET, error).value, types.ProvisionError_Permanent)
        refused = status.from_http_error(M.POST, http.HttpError_TokenRefused(
            http.TokenError(status=400, error="invalid_grant", description="expired"))).value
        self.assertIsInstance(refused, types.ProvisionError_AuthFailed)
        self.assertEqual(refused.value.message, "the token endpoint refused the grant: invalid_grant expired")
        self.assertEqual(refused.value.target_code, "invalid_grant")
        self.assertEqual(refused.value.http_status, 400)
        self.assertEqual(failed(False, M.GET).value.detail.message, "GET failed to connect: reset")


class Constructors(unittest.TestCase):
    def test_shapes(self):
        self.assertEqual(
            errors.not_found("gone", http_status=404),
            Err(types.ProvisionError_NotFound(types.ErrorDetail(
                message="gone", target_code=None, fields=[], http_status=404))))
        self.assertEqual(errors.rate_limited("slow", retry_after_ms=1500).value.value.retry_after_ms, 1500)
        self.assertIsInstance(errors.unsupported("groups").value, types.ProvisionError_Unsupported)
        self.assertIsInstance(errors.quota_exhausted("daily").value, types.ProvisionError_QuotaExhausted)

    def test_guard_turns_anything_raised_into_a_provision_error(self):
        def boom():
            raise TypeError("boom")

        with self.assertRaises(Err) as raised:
            errors.guard(boom)
        self.assertEqual(raised.exception.value.value.message, "connector error: TypeError: boom")

        def dup():
            raise errors.conflict("dup")

        with self.assertRaises(Err) as raised:
            errors.guard(dup)
        self.assertIsInstance(raised.exception.value, types.ProvisionError_Conflict)
        self.assertEqual(errors.guard(lambda: 5), 5)


if __name__ == "__main__":
    unittest.main()
