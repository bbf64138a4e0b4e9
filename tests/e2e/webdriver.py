"""A small W3C WebDriver client for the end-to-end tests (tauri-driver + WebKitWebDriver).

    import webdriver
    with webdriver.session(port, app) as s:   # tauri-driver starts the app for the session
        s.click("#view-button-history")
        s.wait("the list", lambda: s.texts(".entry .job-name"))

Standard library only. `log` prefixes its lines with the test's name (E2E_NAME).
"""

import contextlib
import http.client
import json
import os
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C element reference key
NAME = os.environ.get("E2E_NAME", "e2e")


def log(message):
    print(f"[{NAME}] {message}", flush=True)


def wait(what, check, timeout=30):
    """Calls `check` until it returns something true, and returns that; raises AssertionError
    after `timeout` seconds, with the last value or error."""
    deadline = time.time() + timeout
    last = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = f"got {value!r}"
        except (ConnectionError, http.client.HTTPException):
            raise  # the WebDriver connection itself broke: not something to wait out
        except (AssertionError, OSError, KeyError) as error:
            last = f"{type(error).__name__}: {error}"
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what} ({last})")
        time.sleep(0.25)


class Driver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        # tauri-driver forwards each command over a kept-alive connection to WebKitWebDriver,
        # which may close that connection just as it is reused: tauri-driver then drops ours
        # without an answer ("Connection reset by peer" in its log), and the command never
        # reached the app. Such a command is sent again, at most twice; an answer, even an
        # error, is never retried.
        for attempt in range(3):
            request = urllib.request.Request(self.base + path, data=data, method=method,
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return json.load(response)["value"]
            except urllib.error.HTTPError as error:
                raise AssertionError(
                    f"{method} {path}: {error.code} {error.read().decode()[:500]}")
            except (ConnectionResetError, http.client.RemoteDisconnected) as error:
                if attempt == 2:
                    raise
                log(f"{method} {path}: connection dropped ({error!r}); sent again")
                time.sleep(0.2)

    def up(self):
        return urllib.request.urlopen(self.base + "/status", timeout=2).status == 200


class Session:
    def __init__(self, driver, session_id):
        self.driver = driver
        self.path = f"/session/{session_id}"

    def call(self, method, path, body=None):
        return self.driver.call(method, self.path + path, body)

    def find(self, css):
        return self.call("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css):
        found = self.call("POST", "/elements", {"using": "css selector", "value": css})
        return [element[ELEMENT] for element in found]

    def prop(self, element, name):
        return self.call("GET", f"/element/{element}/property/{name}")

    def text(self, css):
        return self.call("GET", f"/element/{self.find(css)}/text")

    def texts(self, css):
        return [self.call("GET", f"/element/{element}/text") for element in self.find_all(css)]

    def click(self, css):
        self.call("POST", f"/element/{self.find(css)}/click", {})

    def click_button(self, text):
        """Clicks the button whose text (spaces trimmed) is `text` (which has no double quote)."""
        assert '"' not in text, text
        found = self.call("POST", "/element", {
            "using": "xpath", "value": f'//button[normalize-space(.)="{text}"]'})
        self.call("POST", f"/element/{found[ELEMENT]}/click", {})

    def execute(self, script, *args):
        """Runs `script` (a function body: `arguments`, `return`) in the page; its value."""
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})


@contextlib.contextmanager
def session(port, app):
    """A WebDriver session on `app`, which tauri-driver (listening on `port`) starts; the app
    is closed when the block ends."""
    driver = Driver(port)
    wait("tauri-driver", driver.up)
    session_id = driver.call("POST", "/session", {"capabilities": {"alwaysMatch": {
        "tauri:options": {"application": app}}}})["sessionId"]
    try:
        yield Session(driver, session_id)
    finally:
        try:
            driver.call("DELETE", f"/session/{session_id}")
        except (AssertionError, OSError, http.client.HTTPException):
            pass


def attach(port, session_id):
    """The session `session_id`, opened earlier (by `python3 webdriver.py open`)."""
    return Session(Driver(port), session_id)


if __name__ == "__main__":
    # python3 webdriver.py open PORT APP: opens a session (tauri-driver starts the app), waits
    # for the UI, and prints the session id; the session stays open until tauri-driver stops.
    import sys

    if len(sys.argv) != 4 or sys.argv[1] != "open":
        sys.exit("usage: webdriver.py open PORT APP")
    driver = Driver(sys.argv[2])
    wait("tauri-driver", driver.up)
    opened = driver.call("POST", "/session", {"capabilities": {"alwaysMatch": {
        "tauri:options": {"application": sys.argv[3]}}}})["sessionId"]
    wait("the app's UI", lambda: Session(driver, opened).find("#view-button-uploads"))
    print(opened)
