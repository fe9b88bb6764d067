#!/usr/bin/env bash
# Benchmark (not a test): fresh build times, in a clean target directory each, of
#   - the library a program embeds (mailtls-core alone; before the workspace, the one crate's
#     library, which compiled everything),
#   - the binary (`cargo build --bin mailtls`),
#   - the test suite (`cargo test --no-run`, after the binary),
# at a reference commit (default e91aa9e, the last one-crate tree) and at HEAD, one after the
# other on the same machine. Dependencies are fetched first (`cargo fetch`), so only compiling
# is timed. Prints wall time and CPU time (user+sys) of each. No root, no lab.
# REF=commit sets the reference.
set -euo pipefail
cd "$(dirname "$0")/.."
REF="${REF:-e91aa9e}"
work="$(mktemp -d /tmp/mailtls-bench-build.XXXXXX)"
trap 'git worktree remove --force "$work/ref" 2>/dev/null; git worktree remove --force "$work/head" 2>/dev/null; rm -rf "$work"' EXIT
git worktree add --quiet --detach "$work/ref" "$REF"
git worktree add --quiet --detach "$work/head" HEAD

# Runs "$@" in directory $1 with a fresh target; prints "label wall cpu".
timed() {
    local label="$1" dir="$2"; shift 2
    local start end
    start=$(date +%s.%N)
    ( cd "$dir" && /usr/bin/time -o "$work/time" -f '%U %S' "$@" >/dev/null 2>&1 )
    end=$(date +%s.%N)
    read -r user sys < "$work/time"
    printf '%-28s wall %6.1f s   cpu %6.1f s\n' "$label" "$(echo "$end - $start" | bc)" "$(echo "$user + $sys" | bc)"
}

for tree in ref head; do
    dir="$work/$tree"
    (cd "$dir" && cargo fetch --quiet)
    export CARGO_TARGET_DIR="$work/target-$tree-lib"
    if [ "$tree" = ref ]; then
        timed "$tree: library" "$dir" cargo build --lib
    else
        timed "$tree: library (core)" "$dir" cargo build -p mailtls-core
    fi
    export CARGO_TARGET_DIR="$work/target-$tree"
    timed "$tree: binary" "$dir" cargo build --bin mailtls
    timed "$tree: tests (after binary)" "$dir" cargo test --no-run
    rm -rf "$work/target-$tree-lib" "$work/target-$tree"
done
