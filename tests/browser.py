"""Debian's Chromium, launched the same way by the browser tests and the screenshot script."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
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
