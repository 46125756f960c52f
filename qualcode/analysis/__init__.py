"""Analysis: cross-case queries, matrices, framework tables, co-occurrence and agreement between coders."""
