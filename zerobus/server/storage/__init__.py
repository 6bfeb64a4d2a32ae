"""Internal: Where accepted data lives: the catalog, each table's durable log, and its Delta table."""
