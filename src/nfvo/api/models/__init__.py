"""Pydantic models of the API's requests and responses: what ``/openapi.json`` declares.

The handlers validate request bodies themselves (400 ProblemDetails naming the field); these
models describe the same shapes so that a client can be generated from the document.
"""
