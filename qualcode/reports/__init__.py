"""Reports: quote banks per theme, locality case studies, attribution lines, and `check` of any report.

Rendering is in `qualcode.reports.render`; this package's modules import nothing heavy on their own."""
