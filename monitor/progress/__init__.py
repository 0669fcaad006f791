"""Recording progress: the one service every channel (portal, upload, API, CLI, demo) goes through.

`validation` checks a draft against its indicator's kind; `service` stores it append-only with revisions,
skipping facts already on record; `workbook` is the Excel/CSV round trip.
"""
