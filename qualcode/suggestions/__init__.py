"""Suggestions: the spaCy pipeline, deductive autocoding, learned and inductive suggestions, and their evaluation."""
