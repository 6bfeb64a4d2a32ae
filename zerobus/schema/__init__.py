"""Internal: The runtime schema core: a table's IR, its type contract, value conversion, descriptors.

The SDK, the local server and the generator (`zerobus.codegen`) all build on this package; it
imports neither Jinja2 nor Pydantic, so `import zerobus.sdk.sync` stays light.
"""
