#!/usr/bin/env bash
# Run by Snakemake inside a freshly created conda environment (envs/mdmsched.yaml): install the
# mdmsched package of this checkout (editable, its dependencies are already there) and register the
# notebook kernel the reports use.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$repo/pyproject.toml" ] || repo="$PWD"   # a copy of this script run from elsewhere
python -m pip install --no-deps -e "$repo"
python -m ipykernel install --sys-prefix --name python3 >/dev/null
