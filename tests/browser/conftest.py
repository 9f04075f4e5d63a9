"""Playwright driving Debian's Chromium against the live test server.

Playwright's sync API keeps an asyncio loop running in the thread that uses
it, and Django then treats that thread as async (other database connections,
"async unsafe" errors). So the browser lives in a thread of its own: each test
prepares data and checks results in the test thread, and hands the clicking
to the browser thread as one function (`browser.run(steps)`).

The tests skip, saying why, when no Chromium is installed (`.ci/run` installs
Debian's package: a test tool's own browser download does not work here).
Screenshots go to artifacts/browser/."""

import os
import queue
import shutil
import threading
from pathlib import Path

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread


class OneRequestAtATime(ThreadedWSGIServer):
    """The live server accepts connections in threads as usual (a browser
    opens several, some idle), but runs the application for one request at a
    time. On SQLite its threads share the test's one in-memory connection,
    and a page whose photos load at once (each read audited: a write) failed
    with "database table is locked" while another request was reading."""

    _one_at_a_time = threading.Lock()

    def set_app(self, application):
        def serialized(environ, start_response):
            with self._one_at_a_time:
                return application(environ, start_response)

        super().set_app(serialized)


LiveServerThread.server_class = OneRequestAtATime

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


AXE = (Path(__file__).resolve().parents[2] / "static/vendor/axe-core/axe.min.js").read_text()
# What axe-core may find: nothing "serious" or "critical", on any page a test
# visited. Run through the DevTools protocol, so the page's CSP still holds.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 3).map(n => {
      const data = (n.any[0] || {}).data || {};
      const colours = data.fgColor ? " " + data.fgColor + " on " + data.bgColor : "";
      return n.target.join(" ") + colours;
    }).join(", "));
}"""


def accessibility_problems(page, urls):
    """Open again each page the steps visited (GET) and run axe-core on it."""
    problems = []
    for url in dict.fromkeys(u for u in urls if u.startswith("http") and "/logout" not in u):
        page.goto(url)
        page.evaluate(AXE)
        problems += [f"{url}: {v}" for v in page.evaluate(AXE_RUN)]
    return problems


class BrowserThread:
    def __init__(self):
        self._jobs = queue.Queue()
        self._ready = queue.Queue()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        error = self._ready.get()
        if error:
            raise error

    def _serve(self):
        from playwright.sync_api import sync_playwright

        try:
            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as exc:  # reported to the test thread
            self._ready.put(exc)
            return
        self._ready.put(None)
        while (job := self._jobs.get()) is not None:
            steps, answer = job
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
            page = context.new_page()
            page.csp_violations = []
            page.on(
                "console",
                lambda m, page=page: (
                    "Content Security Policy" in m.text and page.csp_violations.append(m.text)
                ),
            )
            visited = []
            page.on(
                "framenavigated",
                lambda frame, page=page, visited=visited: (
                    frame == page.main_frame and visited.append(frame.url)
                ),
            )
            try:
                result = steps(page)
                problems = accessibility_problems(page, visited)
                if problems:
                    raise AssertionError("Accessibility (axe-core):\n  " + "\n  ".join(problems))
                answer.put((result, None))
            except BaseException as exc:  # re-raised in the test thread
                answer.put((None, exc))
            finally:
                context.close()
        browser.close()
        playwright.stop()

    def run(self, steps):
        """Run steps(page) in the browser thread and return what it returns."""
        answer = queue.Queue()
        self._jobs.put((steps, answer))
        result, error = answer.get(timeout=120)
        if error:
            raise error
        return result

    def stop(self):
        self._jobs.put(None)
        self._thread.join(timeout=30)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        pytest.skip("No Chromium on this machine: apt-get install chromium (.ci/run does).")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    thread = BrowserThread()
    yield thread
    thread.stop()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, url, email, password):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
