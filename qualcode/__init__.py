"""qualcode: a terminal-first workbench for qualitative case-study research."""

__version__ = "0.1.0"
