"""Province-scale benchmark of the pipeline (`make bench`, `python -m bench --help`)."""
