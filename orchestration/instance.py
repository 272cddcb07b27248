"""`python -m orchestration.instance`: prepares DAGSTER_HOME (orchestration/cli/instance.py)."""

from orchestration.cli.instance import main

if __name__ == "__main__":
    main()
