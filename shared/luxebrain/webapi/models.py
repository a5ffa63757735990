"""The base of the API's request and response bodies.

``defer_build``: a body's validator and serializer are built when a request first uses it, not when its router
is imported. The API serves about a hundred bodies from one function; a cold start builds those of the request
it answers (FastAPI's per-route adapters of a deferred model stay deferred too), and the OpenAPI document
builds them all when it is asked for.
"""

from __future__ import annotations

import warnings

from pydantic import BaseModel, ConfigDict
from pydantic.warnings import UnsupportedFieldAttributeWarning

# FastAPI wraps a body in ``Annotated[Model, Field(alias=<parameter name>)]`` and silences pydantic's "has no
# effect in the context it was used" warning while it makes that adapter; a deferred body's adapter builds on
# its first request instead, outside FastAPI's filter, so the same warning (only for that alias) is silenced here.
warnings.filterwarnings(
    "ignore",
    message=r"The 'alias' attribute with value '\w+' was provided to the `Field\(\)` function",
    category=UnsupportedFieldAttributeWarning,
)


class ApiModel(BaseModel):
    model_config = ConfigDict(defer_build=True)
