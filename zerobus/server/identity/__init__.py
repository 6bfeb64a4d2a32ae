"""Internal: Who may do what on the local server: principals, grants, OAuth tokens, federation, TLS material."""
