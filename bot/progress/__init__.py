"""Progress from weekly check-ins: the chart (``chart``) and the one-page summary (``summary``).

Pure functions from plain data to PNG or PDF bytes; the caller loads the data, runs them in
a worker thread and sends the result.
"""
