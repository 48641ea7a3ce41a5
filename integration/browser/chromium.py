"""Debian's Chromium and ChromeDriver, driven headless by Selenium.

Nothing is downloaded: both executables are named explicitly (``Service(executable_path=...)``
and ``binary_location``), so Selenium Manager never runs.  Every host name resolves to
127.0.0.1 (``--host-resolver-rules``), so a page on ``http://app.localhost:PORT`` reaches
the test's own server and no request can leave the machine, whatever a page asks for.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = os.environ.get("CORSGEN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CORSGEN_CHROMEDRIVER", "/usr/bin/chromedriver")
ENABLE_HINT = "apt-get install chromium chromium-driver && pip install selenium"

FLAGS = [
    "--headless",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Without these Chromium calls Google's hosts at start and keeps retrying: this
    # machine's closed network refuses them, many at a time.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-proxy-server",
    # Every name (localhost, *.localhost, anything a page might ask for) is loopback.
    "--host-resolver-rules=MAP * 127.0.0.1",
    "--window-size=800,600",
]

SCRIPT_TIMEOUT = 15.0
PAGE_LOAD_TIMEOUT = 15.0


def unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package 'selenium'"
    missing = [
        path
        for path in (CHROMIUM, CHROMEDRIVER)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)) and not shutil.which(path)
    ]
    if missing:
        return "Debian's Chromium and ChromeDriver (" + ", ".join(missing) + " not found)"
    return None


def start(user_data_dir: Path, log_path: Path) -> WebDriver:
    """Start one headless Chromium with a fresh profile; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    # The console says why the browser refused a response; fetch() only says TypeError.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, log_output=str(log_path))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_script_timeout(SCRIPT_TIMEOUT)
    driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
    return driver
