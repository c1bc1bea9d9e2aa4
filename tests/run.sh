#!/usr/bin/env bash
# Every test of the project: the notebooks (nbdev_test; `slow` training cells are skipped) and pytest.
# Cells flagged `film` need the real film; they run when `willie.data.film_path()` finds it
# ($WILLIE_FILM, or ../shared/data/willie/ beside the checkout) and are skipped, with a message, when not.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=""
if where=$(python -c "from willie.data import film_path; print(film_path())" 2>/dev/null); then
  flags="film"; echo "film found at $where: running the notebooks' film cells"
else
  echo "film not found (set WILLIE_FILM=/path/to/steamboat_willie.mp4 to include them): skipping the notebooks' film cells"
fi
start=$(date +%s)
nbdev_test --flags "$flags" --n_workers "${WILLIE_TEST_WORKERS:-2}" --timing
echo "notebooks: $(( $(date +%s) - start )) s"
python -m pytest tests -q -p no:cacheprovider -rs
