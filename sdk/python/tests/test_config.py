"""The config reader: typed values, defaults, and errors naming the key."""

import unittest

from wit_world.imports import types

from provisioner_sdk.config import ConfigError, ConfigReader, claim_value, claim_values, validate_with


def config(**entries):
    return types.ConnectorConfig(
        tenant="t", target="x",
        entries=[types.ConfigEntry(key=k.replace("_", "-"), value=v) for k, v in entries.items()])


def text(value):
    return types.ConfigValue_Text(value)


class Reader(unittest.TestCase):
    def test_reads_every_kind(self):
        reader = ConfigReader(config(
            endpoint=text("https://api.example.com/v1/"),
            flag=types.ConfigValue_Boolean(True),
            flag_text=text("false"),
            count=types.ConfigValue_Integer(30),
            count_text=text("12"),
            mode=text("fast"),
            token=types.ConfigValue_Secret(types.SecretRef(key="token")),
            mappings=types.ConfigValue_ClaimMappings(
                [types.ClaimMapping(target_field="mail", claim="urn:mail", default_value=None)]),
        ))
        self.assertEqual(reader.require_url("endpoint"), "https://api.example.com/v1")
        self.assertIs(reader.bool("flag"), True)
        self.assertIs(reader.bool("flag-text"), False)
        self.assertEqual(reader.int("count"), 30)
        self.assertEqual(reader.int("count-text"), 12)
        self.assertEqual(reader.choice("mode", ["fast", "slow"]), "fast")
        self.assertEqual(reader.require_secret("token"), types.SecretRef(key="token"))
        self.assertEqual(reader.claim_mappings("mappings")[0].target_field, "mail")

    def test_unset_values_take_the_default(self):
        reader = ConfigReader(config())
        self.assertIsNone(reader.text("a"))
        self.assertEqual(reader.text("a", "d"), "d")
        self.assertIs(reader.bool("a", True), True)
        self.assertEqual(reader.int("a", 3), 3)
        self.assertIsNone(reader.url("a"))
        self.assertEqual(reader.choice("a", ["x"], "x"), "x")
        self.assertIsNone(reader.secret("a"))
        self.assertEqual(reader.claim_mappings("a"), [])

    def assert_names(self, fn, key, fragment):
        with self.assertRaises(ConfigError) as raised:
            fn()
        self.assertEqual(raised.exception.key, key)
        self.assertIn(f"`{key}`", raised.exception.message)
        self.assertIn(fragment, raised.exception.message)

    def test_errors_name_the_key_and_what_is_wrong(self):
        reader = ConfigReader(config(
            endpoint=text("not a url"), ftp=text("ftp://example.com"), count=text("many"),
            mode=text("medium"), flag=text("yes"), token=text("plain")))
        self.assert_names(lambda: reader.require_text("missing"), "missing", "is not set")
        self.assert_names(lambda: reader.require_url("endpoint"), "endpoint", "not an absolute URL")
        self.assert_names(lambda: reader.url("ftp"), "ftp", "only http and https")
        self.assert_names(lambda: reader.int("count"), "count", "not an integer")
        self.assert_names(lambda: reader.choice("mode", ["fast", "slow"]), "mode", "fast, slow")
        self.assert_names(lambda: reader.bool("flag"), "flag", "expected boolean")
        self.assert_names(lambda: reader.require_secret("token"), "token", "expected secret reference")

    def test_validate_with_turns_a_config_error_into_a_problem(self):
        problems = validate_with(config(), lambda r: r.require_url("endpoint") and None)
        self.assertEqual(problems, [types.ConfigProblem(
            key="endpoint", message="`endpoint` is not set: give the target a URL value for it")])
        self.assertEqual(validate_with(config(endpoint=text("https://a")), lambda r: r.require_url("endpoint") and None), [])

        def bug(_):
            raise TypeError("bug")

        with self.assertRaises(TypeError):
            validate_with(config(), bug)

    def test_claim_accessors(self):
        user = types.User(local_id="1", name="ada", remote_id=None,
                          claims=[types.Claim(uri="urn:a", values=["1", "2"])],
                          changed_claims=[], previous_name=None)
        self.assertEqual(claim_value(user, "urn:a"), "1")
        self.assertEqual(claim_values(user, "urn:a"), ["1", "2"])
        self.assertIsNone(claim_value(user, "urn:b"))
        self.assertEqual(claim_values(user, "urn:b"), [])


if __name__ == "__main__":
    unittest.main()
