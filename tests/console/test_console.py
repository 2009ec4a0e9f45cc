"""The web console in headless Chromium against the quickstart server.

Drives real pages of `provisioner serve` (quickstart: embedded emulated Salesforce org, the
tutorial's target) the way an operator would:

1. log in with the admin credentials the quickstart printed;
2. add the tutorial's user (samuel@wso2.com, a password, the tutorial's profile as a role) and
   see it arrive in the emulated org (read through the emulator's control API);
3. explain it: each of the tutorial's 12 Salesforce fields with the claim or default that
   produced it, and the exact request body;
4. add a user whose user name is not an email address, see it dead-lettered, open its explain
   view, fix the target on its page (a provisioning domain, so Usernames become email-shaped),
   replay the dead letter, and see the job succeed and the user in the org;
5. look at the provisioning log, a reconciliation run and the metrics page.

Screenshots of the main pages are written to the `--screenshots` folder. Waits poll the page or
the emulator until a condition holds (with a generous deadline that only bounds a hung run);
nothing asserts on how long anything took.

Usage: test_console.py --server-output <quickstart stdout file> --screenshots <dir>
"""

import argparse
import json
import os
import re
import sys
import tempfile
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

TUTORIAL_USER = "samuel@wso2.com"
TUTORIAL_PROFILE = "00e90000001aV2o"
TUTORIAL_FIELDS = {
    "Alias", "Email", "EmailEncodingKey", "LanguageLocaleKey", "LastName", "LocaleSidKey",
    "ProfileId", "TimeZoneSidKey", "UserPermissionsCallCenterAutoLogin",
    "UserPermissionsMarketingUser", "UserPermissionsOfflineUser", "Username",
}
PLAIN_USER = "jdoe"
# The fix: a provisioning domain makes `jdoe` the Username `jdoe@wso2.com` (and leaves
# `samuel@wso2.com` as it is).
FIX_PROPERTY = ("sf-prov-domainName", "wso2.com")
TARGET = "Salesforce.com"
# Bounds a hung run only; every wait returns as soon as its condition holds.
DEADLINE_S = 90


class Skip(Exception):
    """A step this server cannot run (the part of the API it needs is not there)."""


class Quickstart:
    """What the quickstart server printed: console URL, admin credentials, emulator access."""

    def __init__(self, text):
        def find(pattern, what):
            match = re.search(pattern, text, re.MULTILINE)
            if not match:
                raise SystemExit(f"the quickstart output has no {what} (looked for /{pattern}/):\n{text}")
            return match

        self.console = find(r"(https?://\S+/console/)", "console URL").group(1)
        # Admin credentials of their own, or the Basic ones when the admin API says it takes
        # the same credentials.
        admin = re.search(r"^\s*admin(?:istrator)?(?: API| console)? credentials:\s*(\S+)\s*/\s*(\S+)\s*$", text, re.MULTILINE | re.IGNORECASE)
        if admin is None and re.search(r"admin API:.*same credentials", text):
            admin = re.search(r"^\s*Basic credentials:\s*(\S+)\s*/\s*(\S+)\s*$", text, re.MULTILINE)
        if admin is None:
            raise SystemExit(f"the quickstart output names no admin credentials:\n{text}")
        creds = admin
        self.username, self.password = creds.group(1), creds.group(2)
        self.emulator = find(r"^\s*Salesforce emulator:\s*(\S+)\s*$", "emulator URL").group(1).rstrip("/")
        token = re.search(r'Authorization: Bearer ([^"\s]+)"\s+\S+/__emulator__/users', text)
        self.control_token = token.group(1) if token else None

    def control(self, path):
        """GET a control API path of the emulator, as JSON."""
        request = urllib.request.Request(f"{self.emulator}/__emulator__/{path}")
        if self.control_token:
            request.add_header("Authorization", f"Bearer {self.control_token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def org_users(self):
        """Every user of the emulated org, read through the emulator's control API."""
        data = self.control("users")
        return data if isinstance(data, list) else data.get("users") or data.get("records") or []


def wait_until(what, condition, deadline_s=DEADLINE_S, every_s=0.25):
    """Polls `condition` until it returns something truthy, and returns that."""
    end = time.monotonic() + deadline_s
    last_error = None
    while time.monotonic() < end:
        try:
            value = condition()
            if value:
                return value
        except (StaleElementReferenceException, WebDriverException, OSError) as error:
            last_error = error
        time.sleep(every_s)
    raise AssertionError(f"gave up waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


class Console:
    """The browser on the console, with the helpers the steps share."""

    def __init__(self, quickstart, screenshots):
        options = Options()
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1280,900", "--force-device-scale-factor=1", "--lang=en-US"):
            options.add_argument(arg)
        service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.q = quickstart
        self.screenshots = screenshots
        os.makedirs(screenshots, exist_ok=True)

    def close(self):
        self.driver.quit()

    def css(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector, what=None):
        return wait_until(what or selector, lambda: (self.css(selector) or [None])[0])

    def go(self, route, ready=None):
        """Opens `#/<route>` and waits until it has rendered (and `ready` is on the page)."""
        url = f"{self.q.console}#/{route}"
        if self.driver.current_url == url:
            self.driver.refresh()  # the same address again: load the page anew
        else:
            self.driver.get(url)
        name = route.split("/")[0].split("?")[0] or "overview"
        self.one(f'main[data-route="{name}"]:not([data-loading])', f"the {name} page")
        if ready:
            self.one(ready)

    def flash(self):
        flashes = self.css("#flash:not([hidden])")
        return (flashes[0].get_attribute("data-kind"), flashes[0].text) if flashes else (None, "")

    def fill(self, selector, value):
        element = self.one(selector)
        element.clear()
        element.send_keys(value)

    def shot(self, name, folder=None):
        """A screenshot of the whole page as <folder or screenshots>/<name>.png."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, max(900, min(int(height) + 40, 4000)))
        path = os.path.join(folder or self.screenshots, f"{name}.png")
        self.driver.save_screenshot(path)
        self.driver.set_window_size(1280, 900)
        print(f"    screenshot {path}")

    def add_user(self, user_name, password, given, family, email, roles):
        self.go("users", "#user-form")
        self.fill("#user-userName", user_name)
        self.fill("#user-password", password)
        self.fill("#user-givenName", given)
        self.fill("#user-familyName", family)
        self.fill("#user-email", email)
        self.fill("#user-roles", roles)
        self.one("#user-save").click()
        # The console opens the new user's page.
        heading = f"User {user_name}"
        wait_until(f"the page of {user_name}", lambda: self.css("main[data-route=users] h1") and self.css("main h1")[0].text == heading)
        return self.driver.current_url.split("#/users/")[1]

    def explain(self, target):
        Select(self.one("#explain-target")).select_by_value(target)
        self.one("#explain-run").click()
        self.one("#explain-fields")
        rows = {}
        for row in self.css("#explain-fields tbody tr"):
            cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
            rows[row.get_attribute("data-field")] = {
                "value": cells[1].split("\n")[0], "source": row.get_attribute("data-source"), "claim": cells[3], "default": cells[4],
                "connector": " ".join(n.text for n in row.find_elements(By.CSS_SELECTOR, ".connector-note")),
            }
        bodies = [pre.text for pre in self.css("#explain-requests pre.body")]
        return rows, bodies


def org_user(quickstart, username):
    for user in quickstart.org_users():
        if str(user.get("Username", "")).lower() == username:
            return user
    return None


def run(console, quickstart):
    """The steps in order; each returns nothing and raises on a failed expectation."""
    state = {}

    def log_in():
        console.driver.get(quickstart.console)
        console.one("#login-form")
        console.shot("login")
        console.fill("#login-username", quickstart.username)
        console.fill("#login-password", "not the password")
        console.one("#login-submit").click()
        wait_until("the refusal of a wrong password", lambda: console.flash()[0] == "error")
        assert console.css("#login-form"), "a wrong password must leave the login form up"
        console.fill("#login-password", quickstart.password)
        console.one("#login-submit").click()
        console.one('main[data-route="overview"]:not([data-loading])', "the overview after logging in")
        row = console.one(f'#targets-table tr[data-target="{TARGET}"]')
        assert "active" in row.text, f"the tutorial target should be active: {row.text!r}"
        console.shot("overview")

    def tutorial_user_reaches_salesforce():
        state["samuel"] = console.add_user(TUTORIAL_USER, "Test-25-password", "Samuel", "Gnaniah", TUTORIAL_USER, TUTORIAL_PROFILE)
        remote = wait_until(f"{TUTORIAL_USER} in the emulated org", lambda: org_user(quickstart, TUTORIAL_USER))
        assert remote.get("LastName") == "Gnaniah", remote
        assert str(remote.get("ProfileId", "")).startswith(TUTORIAL_PROFILE), remote  # 15- or 18-character id
        # The console's user page shows the successful attempt in its provisioning log.
        def logged():
            console.go(f"users/{state['samuel']}", "#user-log")
            return console.css("#user-log tr[data-outcome=\"ok\"]")
        wait_until("a successful attempt in the user's log", logged)

    def explain_tutorial_user():
        console.go(f"users/{state['samuel']}", "#explain-form")
        fields, bodies = console.explain(TARGET)
        mapped = {name for name, row in fields.items() if row["source"] != "connector"}
        assert mapped == TUTORIAL_FIELDS, f"explain should show the 12 tutorial fields, got {sorted(fields)}"
        assert fields["LastName"]["source"] == "claim" and fields["LastName"]["value"] == "Gnaniah", fields["LastName"]
        assert fields["LastName"]["claim"] == "http://wso2.org/claims/lastname", fields["LastName"]
        assert fields["TimeZoneSidKey"]["source"] == "default", fields["TimeZoneSidKey"]
        assert fields["TimeZoneSidKey"]["value"] == "America/Los_Angeles", fields["TimeZoneSidKey"]
        assert any('"Username": "samuel@wso2.com"' in body for body in bodies), f"no request body with the Username: {bodies}"
        # The user is provisioned, so this is an update: the connector sends the claims' fields
        # as mapped and leaves the defaults out, and the rows say so.
        assert not fields["LastName"]["connector"], fields["LastName"]
        assert "does not send" in fields["TimeZoneSidKey"]["connector"], fields["TimeZoneSidKey"]
        console.shot("user-explain")

    def plain_user_is_dead_lettered():
        state["jdoe"] = console.add_user(PLAIN_USER, "Test-25-password", "John", "Doe", "john.doe@example.org", TUTORIAL_PROFILE)

        def dead_lettered():
            console.go("dead-letters", "main h1")
            return console.css(f'#dead-letters-table tr[data-entity-id="{state["jdoe"]}"]')
        row = wait_until(f"{PLAIN_USER} among the dead letters", dead_lettered)[0]
        assert "email" in row.text.lower(), f"the dead letter should say the Username is not an email address: {row.text!r}"
        assert org_user(quickstart, PLAIN_USER) is None
        console.shot("dead-letters")
        # Its explain view shows the Username the connector would send.
        row.find_element(By.CSS_SELECTOR, "a").click()
        console.one("#explain-form")
        fields, _ = console.explain(TARGET)
        assert fields["Email"]["value"] == "john.doe@example.org", fields["Email"]
        # The Username row says the connector refuses the value it derives, whatever the mapping.
        username = fields["Username"]["connector"]
        assert "refused by the connector" in username and PLAIN_USER in username, fields["Username"]
        # The dry run meets the connector's refusal: the Username is not an email address.
        explained = console.one("#explain").text
        assert PLAIN_USER in explained and "email" in explained.lower(), f"the explain view should say why: {explained}"
        console.shot("user-explain-dead-letter")

    def fix_target_and_replay():
        console.go(f"targets/{TARGET}", "#target-form")
        key, value = FIX_PROPERTY
        console.fill("#property-new-key", key)
        console.fill("#property-new-value", value)
        console.one("#property-add").click()
        console.one(f'#target-properties input[data-property="{key}"]')
        # The quickstart seals its org secrets into the stored secrets, so the target saves
        # without giving them again; its page lists them, write-only.
        for key in ("sf-client-secret", "sf-password"):
            console.one(f'#target-secrets tr[data-secret="{key}"]')
        console.one("#target-save").click()
        wait_until("the target saved", lambda: console.css("#target-problems [data-saved]") or console.flash()[0] == "error")
        kind, text = console.flash()
        assert kind == "ok", f"saving the target failed: {text}"
        console.shot("target")
        console.go("dead-letters", "main h1")
        row = console.one(f'#dead-letters-table tr[data-entity-id="{state["jdoe"]}"]')
        row.find_element(By.CSS_SELECTOR, 'button[data-action="replay"]').click()
        wait_until("the replay confirmed", lambda: "Replayed 1" in console.flash()[1])
        remote = wait_until(f"{PLAIN_USER}@wso2.com in the emulated org", lambda: org_user(quickstart, f"{PLAIN_USER}@wso2.com"))
        assert remote.get("Email") == "john.doe@example.org", remote

        def job_done():
            console.go(f"users/{state['jdoe']}", "#user-jobs")
            return console.css('#user-jobs tr[data-state="done"]')
        wait_until(f"a done job for {PLAIN_USER}", job_done)

    def provisioning_log():
        console.go(f"log?user={PLAIN_USER}", "#log-search")
        outcomes = {r.get_attribute("data-outcome") for r in console.css("#log-table tbody tr")}
        assert len(outcomes) >= 2, f"the log of {PLAIN_USER} should hold the failure and the success, got {outcomes}"
        console.shot("provisioning-log")

    def reconciliation():
        with urllib.request.urlopen(quickstart.console.replace("/console/", "/admin/v1/openapi.json"), timeout=10) as response:
            paths = json.load(response)["paths"]
        if "/admin/v1/tenants/{tenant}/targets/{target}/reconcile" not in paths:
            raise Skip("this server's admin API has no reconciliation routes")
        console.go(f"targets/{TARGET}", "#reconcile-form")
        console.one("#reconcile-run").click()
        console.one("#reconcile-report h3", "a reconciliation report")
        # The run goes on in the server; the page follows it until it ends.
        heading = wait_until("the reconciliation run's end", lambda: next(
            (h3.text for h3 in console.css("#reconcile-report h3") if "running" not in h3.text), None))
        assert heading.startswith("Run #"), heading
        assert not console.css("#reconcile-error"), console.one("#reconcile-error").text
        console.shot("reconciliation")
        run_id = heading.split("#")[1].split()[0]
        console.go(f"targets/{TARGET}", "#reconcile-form")
        assert console.css(f'#reconciliations tr[data-reconciliation="{run_id}"]'), "the run should be listed on the target page"

    def metrics():
        console.go("metrics", "#metrics-counts")
        users = console.one('#metrics-counts [data-count="users"] .value').text
        assert users == "2", f"the tenant should count 2 users, shows {users}"
        console.shot("metrics")

    steps = [log_in, tutorial_user_reaches_salesforce, explain_tutorial_user, plain_user_is_dead_lettered,
             fix_target_and_replay, provisioning_log, reconciliation, metrics]
    passed = skipped = 0
    for step in steps:
        print(f"  {step.__name__} ...", flush=True)
        try:
            step()
        except Skip as why:
            skipped += 1
            print(f"    skipped: {why}", flush=True)
            continue
        except Exception:
            traceback.print_exc()
            try:
                console.shot(f"failed-{step.__name__}", tempfile.gettempdir())
                print(f"    page text: {console.driver.find_element(By.TAG_NAME, 'body').text[:2000]}")
            except Exception:
                pass
            print(f"console: {passed} passed, 1 failed, {skipped} skipped")
            return False
        passed += 1
        print("    ok", flush=True)
    print(f"console: {passed} passed, 0 failed, {skipped} skipped")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-output", required=True)
    parser.add_argument("--screenshots", required=True)
    args = parser.parse_args()
    with open(args.server_output) as handle:
        quickstart = Quickstart(handle.read())
    console = Console(quickstart, args.screenshots)
    try:
        ok = run(console, quickstart)
    finally:
        console.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
