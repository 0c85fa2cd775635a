"""HTTP adapter: FastAPI service and web page over the one Assistant."""
