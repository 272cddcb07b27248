"""Data quality: ``gx_runner`` (the only module that imports Great Expectations),
``validation_runs`` (dq.validation_runs), ``catalog`` (the checks), ``masking``, ``suites``."""
