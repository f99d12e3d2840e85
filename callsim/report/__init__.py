"""Result writers (JSON, CSV) and PNG plots (matplotlib, imported lazily)."""
