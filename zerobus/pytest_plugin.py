"""pytest plugin (entry point `pytest11`): fixtures that give tests a running local server."""
