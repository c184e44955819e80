#!/usr/bin/env bash
# Every HTML page of the book in a real browser (headless Chromium, 390 px
# wide, no network): no console error, nothing wider than the screen, every
# internal link resolving across the pages of build/web/ and in the
# single-page build/book.html. First the checker's self-test: it must catch a
# fault of each kind planted in two pages of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -s build/web/index.html ] && [ -s build/book.html ] || { echo "нет build/web/ или build/book.html: сначала make html"; exit 1; }
python3 tests/browser.py --selftest
python3 tests/browser.py build/web/*.html build/book.html
