"""Transform: the dbt project and its manifest, and the DuckDB plugin dbt loads (hmac_sha256)."""
