"""Pure geospatial library for forest-carbon boundary checks (issue #4): imports nothing from ccer or Flask,
so it runs in a worker, on a Dask cluster or in a notebook."""
