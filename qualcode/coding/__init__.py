"""Coding: the codebook, applying codes by hand and in the tagging session, memos, and coding as a team."""
