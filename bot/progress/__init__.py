"""Progress from weekly check-ins: the chart (``chart``) and the one-page summary (``summary``),
pure functions from plain data to PNG or PDF bytes; what is kept with each check-in
(``store``); and the chat side, ``/progress`` and ``/summary`` (``feature``), which has them
drawn when the messages are delivered, in a child process (``pool``), never stored.
"""
