#!/usr/bin/env bash
# Create one virtual environment per peer under benchmarks/.venvs/<peer> (idempotent).
#
#   bash benchmarks/setup_peers.sh            # all peers
#   bash benchmarks/setup_peers.sh nannyml    # just one
#
# A venv whose marker file (.installed) exists is left alone; delete the venv to rebuild it.
# Every venv also gets pyarrow (the peers read Parquet through pandas/pyarrow).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venvs="$here/.venvs"
python="${PYTHON:-python3}"
mkdir -p "$venvs"

# Package specs per peer. Pins are lower bounds we measured with, plus caps the peers need.
declare -A specs=(
  # Evidently 0.7 does not support pandas 3.
  [evidently]="evidently pandas<3 pyarrow"
  # The drift scores live in whylogs.viz, which needs the viz extra (ipython, scipy, pybars3).
  [whylogs]="whylogs[viz] pandas<3 pyarrow"
  # NannyML imports statsmodels at import time for its chunkers but does not declare it everywhere.
  [nannyml]="nannyml statsmodels pyarrow"
  # NumPy backend only (no tensorflow / torch extras). alibi-detect 0.13 needs numpy<2, and
  # pyarrow >= 21 needs numpy>=2 (without declaring it), so cap pyarrow.
  [alibi_detect]="alibi-detect pyarrow<21"
  # scipy and the numpy floor share one small venv.
  [numpy]="numpy scipy pyarrow"
)

peers=("$@")
[ ${#peers[@]} -eq 0 ] && peers=(numpy nannyml alibi_detect evidently whylogs)

for peer in "${peers[@]}"; do
  spec="${specs[$peer]:?unknown peer $peer}"
  dir="$venvs/$peer"
  if [ -f "$dir/.installed" ]; then
    echo "[$peer] already installed ($dir)"
    continue
  fi
  echo "[$peer] creating $dir: $spec"
  start=$SECONDS
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  # shellcheck disable=SC2086  # word splitting of $spec is intended
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check $spec
  "$dir/bin/python" -m pip freeze > "$dir/.installed"
  echo "[$peer] done in $((SECONDS - start)) s"
done
