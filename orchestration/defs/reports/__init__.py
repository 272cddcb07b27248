"""Reports to officials as Dagster assets (assets.py); orchestration.lib.reports writes them."""
