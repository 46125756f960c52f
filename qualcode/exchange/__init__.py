"""Exchange: moving work in and out (REFI-QDA, spreadsheets, CSV codings) and merging another copy."""
