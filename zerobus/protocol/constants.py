"""Internal: Every wire constant the SDK and the local server share, spelled once (docs/PROTOCOL.md).

The client and the server import these names; a literal copy elsewhere in the package is a bug
(tests/test_protocol.py greps for them), because two spellings drift apart unnoticed.
"""

from __future__ import annotations

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "AUTHORIZATION_DETAILS_TYPE",
    "AUTHORIZATION_HEADER",
    "BEARER_PREFIX",
    "CLIENT_CREDENTIALS_GRANT",
    "ERROR_INVALID_RECORD",
    "ERROR_MISSING_GRANTS",
    "ERROR_SCHEMA_NOT_SELF_CONTAINED",
    "ERROR_STREAM_LIFETIME",
    "INGEST_RESOURCE_SUFFIX",
    "JWT_TOKEN_TYPE",
    "MAX_REQUEST_BYTES",
    "OAUTH_SCOPE",
    "SDK_ID_HEADER",
    "TABLE_NAME_HEADER",
    "TOKEN_EXCHANGE_GRANT",
    "TOKEN_PATH",
    "UC_TABLES_PATH",
    "error_code_text",
]

# gRPC metadata and HTTP headers (docs/PROTOCOL.md section 3; gRPC metadata keys are lower case).
AUTHORIZATION_HEADER = "authorization"
BEARER_PREFIX = "Bearer "
TABLE_NAME_HEADER = "x-databricks-zerobus-table-name"
SDK_ID_HEADER = "x-zerobus-sdk"

# OAuth (docs/PROTOCOL.md sections 2 and 10): the token endpoint, the form's fixed values, and
# the resource an ingest token names.
TOKEN_PATH = "/oidc/v1/token"
CLIENT_CREDENTIALS_GRANT = "client_credentials"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
OAUTH_SCOPE = "all-apis"
AUTHORIZATION_DETAILS_TYPE = "unity_catalog_privileges"
INGEST_RESOURCE_SUFFIX = "/zerobusDirectWriteApi"

# Unity Catalog REST (docs/PROTOCOL.md section 6): the tables collection; a table is ``{path}/{full_name}``.
UC_TABLES_PATH = "/api/2.1/unity-catalog/tables"

# The service refuses a request (one gRPC message) above this size (docs/PROTOCOL.md section 8).
MAX_REQUEST_BYTES = 10 * 1024 * 1024

# Service error codes carried in status messages as "Error code N: ..." (docs/PROTOCOL.md section 4).
ERROR_SCHEMA_NOT_SELF_CONTAINED = 4033
ERROR_MISSING_GRANTS = 4024
ERROR_INVALID_RECORD = 4044
ERROR_STREAM_LIFETIME = 6002


def error_code_text(code: int) -> str:
    """The prefix of a status message carrying service error `code`."""
    return f"Error code {code}"
