# The Communis worker image used by docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY archive archive
COPY schemas schemas
COPY flows flows
COPY prefect.yaml .
RUN pip install --no-cache-dir .
ENV COMMUNIS_HOME=/app
