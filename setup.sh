#!/usr/bin/env bash
# Sets up dynamos on a fresh clone: the pinned Mammoth submodule with every patch in
# patches/ applied, and a virtual environment (.venv) with torch, Mammoth's dependencies
# and this plugin (editable). Idempotent: a second run checks everything and changes nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"

# 1. Mammoth, at the commit this repository pins (a no-op when it is already there).
git submodule update --init mammoth

# 2. Our patches to Mammoth, in order: skip those already applied, stop on one that no longer applies.
#    A later patch may change lines an earlier one added, so "already applied" is decided for the series:
#    the first K patches are applied when reversing them, last first, works on a scratch copy of mammoth/.
PATCHES=(patches/*.patch)
applied_prefix() {
    local k scratch ok i
    for ((k = ${#PATCHES[@]}; k > 0; k--)); do
        scratch="$(mktemp -d)"
        (cd mammoth && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$scratch")
        ok=1
        for ((i = k - 1; i >= 0; i--)); do
            (cd "$scratch" && git apply --reverse "$ROOT/${PATCHES[i]}" 2>/dev/null) || { ok=0; break; }
        done
        rm -rf "$scratch"
        if [ "$ok" = 1 ]; then echo "$k"; return; fi
    done
    echo 0
}
n_applied="$(applied_prefix)"
for ((i = 0; i < ${#PATCHES[@]}; i++)); do
    patch="${PATCHES[i]}"
    name="$(basename "$patch")"
    if [ "$i" -lt "$n_applied" ]; then
        echo "setup: $name already applied"
    elif git -C mammoth apply --check "$ROOT/$patch" 2>/dev/null; then
        git -C mammoth apply "$ROOT/$patch"
        echo "setup: applied $name"
    else
        echo "setup: ERROR: patch $name no longer applies to mammoth/ ($(git -C mammoth rev-parse --short HEAD)):" >&2
        git -C mammoth apply --check "$ROOT/$patch" >&2 || true
        exit 1
    fi
done

# 3. The virtual environment; reinstalled only when setup.cfg, pyproject.toml or Mammoth's pyproject.toml change.
#    Mammoth itself is installed as its README documents (`pip install -e .`, patch 0017 makes `import mammoth`
#    work from any folder), without its own dependency list: setup.cfg names the part of it that Mammoth needs here.
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.dynamos-setup
want="$( (cat setup.cfg pyproject.toml mammoth/pyproject.toml; echo mammoth-editable) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[lab,test]"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e ./mammoth
    echo "$want" > "$stamp"
    echo "setup: installed the plugin and its dependencies into .venv"
else
    echo "setup: .venv is up to date"
fi
