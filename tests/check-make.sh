#!/usr/bin/env bash
# The author's loop, on a temporary copy of the repository: make stops first,
# with the tangle's message, when the book has an undefined chunk (it used to
# weave the book with ⟨… ??⟩ and return 0); a user without root and with a
# package missing gets the install command, not a cascade of empty ar
# commands; make help lists the goals.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
mkdir "$tmp/b"
cp -r Makefile tangle.sh book generated tests "$tmp/b/"

nw=$(ls book/*.nw | sed -n 2p)
echo '<<Фрагмент, которого нет>>' >"$tmp/use"
line=$(grep -n '^<<lib/[a-z_]*\.c>>=$' "$nw" | head -1 | cut -d: -f1)
[ -n "$line" ] || line=$(grep -n '^<<.*>>=$' "$nw" | head -1 | cut -d: -f1)
sed -i "${line}r $tmp/use" "$tmp/b/$nw"
if make -C "$tmp/b" >"$tmp/out" 2>&1; then
  echo "make вернул 0 при неопределённом фрагменте"; fail=1
elif ! grep -q "фрагмент ⟨Фрагмент, которого нет⟩ используется, но нигде не определён" "$tmp/out"; then
  echo "make упал, но без сообщения tangle.sh:"; cat "$tmp/out"; fail=1
elif grep -qE '^ +(CC|WEAVE|AR|LD)|^cc |^ar ' "$tmp/out" || [ -e "$tmp/b/build/book.md" ]; then
  echo "make продолжил сборку после сбоя tangle.sh:"; cat "$tmp/out"; fail=1
else
  echo "ok: make остановился первым делом, с сообщением tangle.sh"
fi

# a fresh clone, a user without root, a package missing
rm -rf "$tmp/b" && mkdir "$tmp/b" && cp -r Makefile tangle.sh book generated tests "$tmp/b/"
chmod -R a+rwX "$tmp"
if runuser -u nobody -- make -C "$tmp/b" PACKAGES="noweb no-such-package-for-the-test" >"$tmp/out" 2>&1; then
  echo "make без root и без пакета вернул 0"; fail=1
elif ! grep -q "sudo apt-get update && sudo apt-get install --no-install-recommends no-such-package-for-the-test" "$tmp/out"; then
  echo "make без root не напечатал команду установки:"; cat "$tmp/out"; fail=1
elif grep -qE '^ar |^ +AR|No rule to make target' "$tmp/out"; then
  echo "make без пакета продолжил сборку:"; cat "$tmp/out"; fail=1
else
  echo "ok: без root make печатает команду установки и останавливается"
fi

if make -s -C "$tmp/b" help >"$tmp/out" 2>&1 && grep -q '^make html' "$tmp/out" && grep -q '^V=1' "$tmp/out"; then
  echo "ok: make help"
else
  echo "make help не перечислил цели:"; cat "$tmp/out"; fail=1
fi
exit $fail
