#!/usr/bin/env bash
# The course's main job: execute every notebook under the chosen schedule (COURSE_SCHEDULE, default
# full) and build the website into book/_build/html. Notebooks whose source did not change are not
# re-run (jupyter-cache), unless the schedule or dataset changed since the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export COURSE_SCHEDULE=${COURSE_SCHEDULE:-full}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # see scripts/test.sh
stamp_file=book/_build/.course-run
stamp="schedule=$COURSE_SCHEDULE dataset=${COURSE_DATASET:-mnist}"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" != "$stamp" ]; then
    echo "build_book: $stamp differs from the last build ($(cat "$stamp_file")): clearing the cache"
    rm -rf book/_build/.jupyter_cache
fi
.venv/bin/jupyter-book build book/ --warningiserror --keep-going "$@"
mkdir -p book/_build && echo "$stamp" > "$stamp_file"
echo "build_book: open book/_build/html/index.html"
