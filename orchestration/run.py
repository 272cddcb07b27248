"""`python -m orchestration.run` (`make run`): the command lives in orchestration/cli/run.py."""

import sys

from orchestration.cli.run import main

if __name__ == "__main__":
    sys.exit(main())
