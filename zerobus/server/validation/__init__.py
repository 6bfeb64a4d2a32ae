"""Internal: Checks of what clients send: descriptors and Arrow schemas against tables, records and batches."""
