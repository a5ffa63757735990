"""HTTP-facing helpers of the API that hold no framework state: problem details and cursors."""
