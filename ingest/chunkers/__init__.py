"""Structure-aware chunking internals; the public entry point is ingest.chunking.chunk_pages."""
