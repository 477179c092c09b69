#!/usr/bin/env bash
# The configuration reference comes from the option table
# (broker/core/config.c): this checks that the committed docs are what the
# table prints, and with --update rewrites them.
#   docs/config.md           the block between "<!-- BEGIN options" and
#                            "<!-- END options -->" = --print-config-docs=markdown
#   docs/man/regnotifyd.json.5  = --print-config-docs=man
#   docs/man/regnotifyd.8    names every flag of --help
# Usage: scripts/config_docs.sh REGNOTIFYD [--update]. Run by ctest (config_docs).
set -euo pipefail
bin="${1:?usage: scripts/config_docs.sh REGNOTIFYD [--update]}"
update="${2:-}"
cd "$(dirname "$0")/.."
md=docs/config.md man5=docs/man/regnotifyd.json.5 man8=docs/man/regnotifyd.8
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bin" --print-config-docs=markdown >"$tmp/block.md"
"$bin" --print-config-docs=man >"$tmp/man5"
# config.md with its generated block replaced by the table's output.
awk -v block="$tmp/block.md" '
  /^<!-- BEGIN options/ { while ((getline l < block) > 0) print l; skip = 1; found++; next }
  /^<!-- END options -->/ { skip = 0; next }
  !skip { print }
  END { if (found != 1) exit 3 }' "$md" >"$tmp/config.md" || {
  echo "$md: needs exactly one '<!-- BEGIN options' ... '<!-- END options -->' block" >&2
  exit 1
}
if [ "$update" = --update ]; then
  cp "$tmp/config.md" "$md"
  cp "$tmp/man5" "$man5"
  echo "updated $md and $man5"
else
  rc=0
  diff -u "$md" "$tmp/config.md" || {
    echo "$md: the option block differs from '$bin --print-config-docs=markdown'" \
      "(scripts/config_docs.sh $bin --update)" >&2
    rc=1
  }
  diff -u "$man5" "$tmp/man5" || {
    echo "$man5 differs from '$bin --print-config-docs=man'" \
      "(scripts/config_docs.sh $bin --update)" >&2
    rc=1
  }
  [ "$rc" = 0 ] || exit 1
fi
# regnotifyd(8) is written by hand: it must still name every flag.
missing=0
for flag in $("$bin" --help | grep -oE '^  (-h, )?--[a-z-]+' | sed 's/.*--/--/' | sort -u); do
  roff="$(printf '%s' "$flag" | sed 's/-/\\\\-/g')"
  grep -q -- "$roff" "$man8" || { echo "$man8 does not document $flag" >&2; missing=1; }
done
[ "$missing" = 0 ]
