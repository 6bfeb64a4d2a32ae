"""The Jinja2 templates of the code generator, loaded as package data (see codegen/render.py)."""
