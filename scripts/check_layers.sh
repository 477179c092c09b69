#!/usr/bin/env bash
# Fails when a file of the broker includes a header of a layer above its
# own (docs/architecture.md). The CMake structure already refuses to build
# such an include (each folder is a library whose include path has only
# the layers below it); this check names the offending line, and also
# catches an include path widened by mistake. Run by ctest (unit_layers).
set -euo pipefail
cd "$(dirname "$0")/.."
# The layers each folder may include, besides its own.
declare -A allowed=(
  [client/common]=""
  [broker/core]="client/common"
  [broker/model]="broker/core client/common"
  [broker/store]="broker/model broker/core client/common"
  [broker/auth]="broker/store broker/model broker/core client/common"
  [broker/api]="broker/auth broker/store broker/model broker/core client/common"
  [broker/deliver]="broker/auth broker/store broker/model broker/core client/common"
  [broker/transport]="broker/core client/common"
)
# Where each project header lives (generated scripts.h belongs to store).
declare -A home=([scripts.h]=broker/store)
for dir in "${!allowed[@]}"; do
  for h in "$dir"/*.h; do
    [ -e "$h" ] && home[$(basename "$h")]=$dir
  done
done
bad=0
for dir in "${!allowed[@]}"; do
  for f in "$dir"/*.c "$dir"/*.h; do
    [ -e "$f" ] || continue
    while IFS= read -r inc; do
      owner=${home[$inc]:-}
      [ -z "$owner" ] && continue          # a system or library header
      [ "$owner" = "$dir" ] && continue
      case " ${allowed[$dir]} " in
        *" $owner "*) ;;
        *) echo "$f includes \"$inc\" of $owner, a layer above or beside $dir" >&2; bad=1 ;;
      esac
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
  done
done
[ $bad -eq 0 ] && echo "layers: no include of a higher layer"
exit $bad
