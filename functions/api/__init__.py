"""The LuxeBrain HTTP API (FastAPI behind API Gateway through Mangum)."""
