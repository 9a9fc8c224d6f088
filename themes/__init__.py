"""Built-in themes of sitegen (templates and static files, shipped as package data)."""
