"""One module per command group; each exposes `register(app)`. Heavy imports stay inside commands."""
