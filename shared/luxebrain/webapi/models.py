"""The base of the API's request and response bodies.

``defer_build``: a body's validator and serializer are built when a request first uses it, not when its router
is imported. The API serves about a hundred bodies from one function; a cold start builds those of the request
it answers (FastAPI's per-route adapters of a deferred model stay deferred too), and the OpenAPI document
builds them all when it is asked for.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    model_config = ConfigDict(defer_build=True)
