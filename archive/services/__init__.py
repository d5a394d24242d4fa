"""Local services for development, tests, demo and benchmarks: Elasticsearch and MinIO.

Started by the project itself (`scripts/services up`), on loopback, with downloads and
builds cached outside the clone (`~/.cache/communis`) and data in the git-ignored `var/`.
Prefect needs nothing started: flows use its ephemeral local API.
"""
