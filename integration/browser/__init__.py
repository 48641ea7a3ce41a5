"""Headless Chromium and the pages it loads, for integration/test_browser.py."""
