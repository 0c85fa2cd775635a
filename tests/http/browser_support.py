"""Headless Debian chromium for the page tests (Selenium with the system chromedriver; no downloads)."""
from __future__ import annotations

import os
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PHONE = (390, 844)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")


def start_chromium(profile_dir: Path, size: tuple[int, int] = PHONE) -> webdriver.Chrome:
    # A missing browser is a failure, not a skip: `make test` installs it via .ci/install-system-deps.sh.
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "chromium missing: run `sudo .ci/install-system-deps.sh`"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile_dir}", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    return driver


def wait(driver, seconds: float = 60) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


def page_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(driver, directory: Path, name: str) -> Path:
    """Full-page screenshot at phone width, into PARTNERSHIP_SCREENSHOT_DIR when set, else `directory`."""
    driver.execute_script("window.scrollTo(0, 0)")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(PHONE[0], max(PHONE[1], height))
    target = Path(os.environ.get("PARTNERSHIP_SCREENSHOT_DIR") or directory) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(target))
    driver.set_window_size(*PHONE)
    return target
