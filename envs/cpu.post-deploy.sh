#!/usr/bin/env bash
# Make the workflow's library importable in this environment: an editable install of the checkout
# (Snakemake runs this in the working directory, the project root, with the environment active).
set -euo pipefail
python -m pip install --no-deps --editable .
