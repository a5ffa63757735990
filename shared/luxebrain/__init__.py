"""LuxeBrain: the domain package every Lambda function imports."""

__version__ = "0.1.0"
