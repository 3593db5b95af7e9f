FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /action
COPY pyproject.toml README.md entrypoint.py ./
COPY openproducer ./openproducer
RUN pip install --no-compile . && useradd --create-home --uid 1001 runner

# The runner mounts the workspace and event file; the action needs no write access to /action.
ENTRYPOINT ["python", "/action/entrypoint.py"]
