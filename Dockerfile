# The Action's image. Releases publish it to ghcr.io/openproducer/action (see
# .github/workflows/release.yml); on main, action.yml builds it from this file.
#
# The base is pinned by digest (the multi-platform index, so amd64 and arm64 builds resolve
# their own image); Dependabot proposes new digests and keeps the tag at 3.11-slim.
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

LABEL org.opencontainers.image.source="https://github.com/openproducer/action" \
      org.opencontainers.image.description="OpenProducer: turn a large spec in a GitHub issue into focused, linked issues." \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# Runtime dependencies only, exactly as locked: every file is checked against its hash, and
# only wheels are accepted (nothing is built here). pip compiles their bytecode as it installs.
# The lock's header has the command that regenerates it; .ci/run fails when it is stale.
COPY requirements/action.txt /tmp/requirements.txt
RUN python -m pip install --require-hashes --only-binary=:all: --no-deps \
        --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The package runs from /action (entrypoint.py puts its own folder first on sys.path), so the
# image holds no build tooling and no unhashed download. Its bytecode is compiled here too.
COPY entrypoint.py /action/entrypoint.py
COPY openproducer /action/openproducer
RUN python -m compileall -q /action/openproducer

# Bytecode is written above, at build time; at run time nothing needs to write next to it.
ENV PYTHONDONTWRITEBYTECODE=1

# No USER and no WORKDIR: GitHub runs Docker actions as the image's default user (root), in
# the mounted workspace, and documents that both should be left to it.
# https://docs.github.com/en/actions/reference/workflows-and-actions/dockerfile-support
ENTRYPOINT ["python", "/action/entrypoint.py"]
