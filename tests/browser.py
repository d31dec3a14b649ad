"""Debian's Chromium, launched the same way by the browser tests and the screenshot script; a page that records
what the Content-Security-Policy blocked, and an organizer's login in it."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_TIMEOUT_MS = 15_000
# Without the background-networking flags Chromium floods this closed network with refused connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright):
    """Start headless Chromium from /usr/bin (Playwright's own browser download is impossible here)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


# Collects what the Content-Security-Policy blocked, from before the page's own scripts run (init scripts are
# injected by the browser, outside the policy).
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def csp_violations(page) -> list[str]:
    """What the CSP blocked on the page since it loaded (the page's context needs CSP_WATCH as an init script)."""
    return page.evaluate("window.__cspViolations")


@contextmanager
def watched_page() -> Iterator[Page]:
    """A page in a fresh headless Chromium with CSP_WATCH installed; the browser closes when the block ends."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            page.add_init_script(CSP_WATCH)
            yield page
        finally:
            browser.close()


def log_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Log in through the login form (opened unless the page shows it already); returns on the organizer index."""
    login_url = f"{base_url}/auth/login"
    if page.url != login_url:
        page.goto(login_url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/organizer/")
