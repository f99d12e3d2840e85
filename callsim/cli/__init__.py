"""Command-line adapter: typer commands over the analytics, simulator and core."""
