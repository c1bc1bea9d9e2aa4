#!/usr/bin/env bash
# Every test of the project: the notebooks (nbdev_test; `slow` training cells are skipped) and pytest.
# Cells flagged `film` or `cifar` need the real data. They run when a local copy is found (the film: $WILLIE_FILM,
# ../shared/data/willie/ beside the checkout, or a download in $WILLIE_HOME; CIFAR-10: $WILLIE_CIFAR,
# ../shared/data/cifar10/, or a download in $WILLIE_HOME) and are skipped, with a message, when not.
set -euo pipefail
cd "$(dirname "$0")/.."
# One torch thread per process: two notebook workers x 1 thread ran a set of six notebooks in 26 s where 1 worker x 2
# threads took 142 s and 2 x 2 took 197 s, on 2 cores shared with a training run (bench/notebook_workers.py).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
flags=""
if where=$(python -c "from willie.data.film import film_path; print(film_path())" 2>/dev/null); then
  flags="film"; echo "film found at $where: running the notebooks' film cells"
else
  echo "SKIP film cells: the film is not here (set WILLIE_FILM=/path/to/film.mp4, or run 'willie prepare --download')"
fi
if where=$(python -c "from willie.cifar.data import cifar_path; print(cifar_path(download=False))" 2>/dev/null); then
  flags="$flags cifar"; echo "CIFAR-10 found at $where: running the notebooks' CIFAR cells"
else
  echo "SKIP cifar cells: CIFAR-10 is not here (set WILLIE_CIFAR=/path/to/cifar-10-python.tar.gz)"
fi
start=$(date +%s)
# each notebook in a fresh process, as in its own kernel: nbdev_test's reused workers let one notebook's re-registered
# classes reach the next (tests/run_notebooks.py)
python tests/run_notebooks.py --flags "$flags" --workers "${WILLIE_TEST_WORKERS:-2}"
echo "notebooks: $(( $(date +%s) - start )) s"
# pytest in worker processes too, one per core (pytest-xdist); WILLIE_TEST_WORKERS=0 runs every test in this process
python -m pytest tests -q -p no:cacheprovider -rs -n "${WILLIE_TEST_WORKERS:-2}"
