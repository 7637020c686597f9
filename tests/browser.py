"""Headless Chromium for the page tests: Debian's `chromium` + `chromium-driver`, driven by
Selenium with explicit paths, so nothing is downloaded (Selenium Manager is never asked).

`chrome(profile)` yields a driver or skips, saying what is missing. Helpers emulate a phone
or the dark theme through the DevTools protocol and save screenshots when
PIPELINE_SCREENSHOT_DIR is set.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PHONE = {"width": 375, "height": 740, "deviceScaleFactor": 2, "mobile": True}
# Flags for a root user in a container, and no calls home from a fresh profile.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def find_browser() -> tuple[str, str] | str:
    """(browser, driver) paths, or the reason the test cannot run."""
    browser = next((p for name in BROWSERS if (p := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    if browser is None:
        return "no Chromium found (apt-get install -y chromium chromium-driver)"
    if driver is None:
        return "no chromedriver found (apt-get install -y chromium-driver)"
    return browser, driver


@contextmanager
def chrome(profile: Path) -> Iterator[Any]:
    """A headless Chromium with a fresh profile in `profile`; skips when there is none."""
    found = find_browser()
    if isinstance(found, str):
        pytest.skip(found)
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = found
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1200,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def emulate(driver: Any, *, phone: bool = False, dark: bool = False) -> None:
    if phone:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    else:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    scheme = "dark" if dark else "light"
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )


def open_page(driver: Any, page: Path, *, phone: bool = False, dark: bool = False) -> None:
    emulate(driver, phone=phone, dark=dark)
    driver.get(page.as_uri())


def overflows(driver: Any, width: int) -> bool:
    """True when the page is wider than `width` CSS pixels (a reader would scroll sideways).
    Compared with the width asked for, not `innerWidth`: a mobile viewport widens itself to fit
    content that overflows."""
    scroll = driver.execute_script("return document.documentElement.scrollWidth")
    inner = driver.execute_script("return window.innerWidth")
    return bool(scroll > width or inner > width)


def screenshot(driver: Any, name: str, *, whole_page: bool = True) -> None:
    """The page (or what the screen shows) as a PNG in $PIPELINE_SCREENSHOT_DIR, if set."""
    target = os.environ.get("PIPELINE_SCREENSHOT_DIR")
    if not target:
        return
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": whole_page}
    )
    Path(target).mkdir(parents=True, exist_ok=True)
    (Path(target) / name).write_bytes(base64.b64decode(shot["data"]))
