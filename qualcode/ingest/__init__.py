"""Ingest: reading transcripts as researchers receive them, their speakers and pseudonymised metadata, into the project."""
