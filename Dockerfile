# wagate as a container: `docker build -t wagate .`, then
#   docker run -p 8080:8080 -p 50051:50051 wagate                  (the demo tenant)
#   docker run -v ./wagate.yaml:/etc/wagate/wagate.yaml:ro \
#     -e WAGATE_CONFIG=/etc/wagate/wagate.yaml -p 8080:8080 -p 50051:50051 wagate
# compose.yaml runs it with PostgreSQL and Redis; see docs/deployment.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: wagate and its dependencies in a virtualenv ------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/wagate
WORKDIR /src
# The dependencies first, in a layer of their own: it is rebuilt only when they change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && /opt/wagate/bin/pip install -r requirements.txt
COPY . .
RUN /opt/wagate/bin/pip install --no-deps . \
 && /opt/wagate/bin/wagate --version

# -- runtime: the virtualenv only, run by an unprivileged user -----------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/wagate --create-home wagate
COPY --from=build /opt/wagate /opt/wagate
ENV PATH=/opt/wagate/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WAGATE_HTTP_HOST=0.0.0.0 \
    WAGATE_HTTP_PORT=8080 \
    WAGATE_GRPC_PORT=50051 \
    WAGATE_LOG_FORMAT=json
# The SQLite default (data/wagate.sqlite3) and the demo's sample files live here.
WORKDIR /var/lib/wagate
VOLUME ["/var/lib/wagate"]
USER wagate
EXPOSE 8080 50051
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WAGATE_HTTP_PORT', '8080'), timeout=2)"
ENTRYPOINT ["wagate"]
CMD ["serve"]
