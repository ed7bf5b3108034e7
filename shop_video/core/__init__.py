"""The bottom layer: application errors, logging context, audit, the Redis client and GPU telemetry.

It imports nothing else of the project; every other layer may import it."""
