"""Run the service's database tests on every supported PostgreSQL major; see `guidekit.postgres_matrix`.

    uv run python scripts/postgres_matrix.py 15 16 18

With no major, every one that installs here. Arguments after `--` go to pytest (`-- -n 1`).
With `TEST_DATABASE_URL` set, one major, tested on that server (how CI runs 17).
"""

import sys

from guidekit.postgres_matrix import main

if __name__ == "__main__":
    sys.exit(main())
