# syntax=docker/dockerfile:1
# coldflow application image: one image, three commands (`coldflow api`, `coldflow worker`,
# `coldflow migrate`). Built by docker-compose.yml; see docs/operations.md.

ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: install the project and its dependencies into a virtualenv -------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1
RUN python -m venv /opt/coldflow
WORKDIR /src
COPY . .
# Every dependency ships manylinux wheels, so no compiler is needed. The cache mount keeps
# downloaded wheels between builds.
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/coldflow/bin/pip install . \
    && /opt/coldflow/bin/coldflow --help > /dev/null

# ---- runtime -----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/coldflow/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    COLDFLOW_API_HOST=0.0.0.0 \
    COLDFLOW_API_PORT=8000 \
    COLDFLOW_DATA_DIR=/var/lib/coldflow
RUN groupadd --system --gid 10001 coldflow \
    && useradd --system --uid 10001 --gid coldflow --home-dir /var/lib/coldflow \
        --shell /usr/sbin/nologin coldflow \
    && install -d -o coldflow -g coldflow -m 0750 /var/lib/coldflow
COPY --from=build /opt/coldflow /opt/coldflow
USER coldflow:coldflow
WORKDIR /var/lib/coldflow
EXPOSE 8000
ENTRYPOINT ["coldflow"]
CMD ["api"]
