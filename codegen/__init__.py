"""The schema subsystem: Unity Catalog types -> IR -> proto2 text, runtime descriptors, models."""
