import os
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body are still synchronous, so allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def phone_page(browser_page):
    """A page the size of a phone (390x844 CSS pixels, touch, mobile viewport rules), in the
    same browser as ``browser_page``."""
    context = browser_page.context.browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


SERIOUS_IMPACTS = ("serious", "critical")


def axe_violations(page, name: str) -> list[str]:
    """Run axe-core on the page as it is now. Prints every violation and returns those with
    impact "serious" or "critical", one line each (a test asserts that list is empty)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    serious = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        line = (
            f"{violation['id']} ({violation['impact']}): {violation['help']}"
            f" — {', '.join(targets[:5])}"
        )
        print(f"axe {name}: {line}")
        if violation["impact"] in SERIOUS_IMPACTS:
            serious.append(line)
    if not violations:
        print(f"axe {name}: no violations")
    return serious
