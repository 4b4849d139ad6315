# nfvo container image: `nfvo serve` as a non-root user, the data directory a volume.
#
#   DOCKER_BUILDKIT=1 docker build -t nfvo .
#
# Build arguments and secrets (docs/deploy.md):
#   --build-arg BASE_IMAGE=IMAGE     a Debian bookworm image for both stages (default
#                                    debian:bookworm-slim; deploy/image/build-base.sh makes one
#                                    without a registry)
#   --secret id=pip-ca,src=BUNDLE    a CA bundle pip trusts while building, e.g. behind a
#                                    TLS-intercepting proxy; never stored in the image
ARG BASE_IMAGE=debian:bookworm-slim

# -- Python interpreter, shared by both stages (already there in a build-base.sh image) ------
FROM ${BASE_IMAGE} AS python
RUN if ! command -v python3 >/dev/null; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
           python3 ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi

# -- the runtime requirements, from pyproject.toml alone --------------------------------------
# A stage of its own so that a change elsewhere in pyproject.toml (version, test extras) keeps
# the cached dependency layer below: only this file's content is copied on.
FROM python AS requirements
COPY pyproject.toml /src/pyproject.toml
RUN python3 -c "import tomllib; \
deps = tomllib.load(open('/src/pyproject.toml', 'rb'))['project']['dependencies']; \
open('/requirements.txt', 'w').write('\n'.join(deps) + '\n')"

# -- build: a virtual environment with nfvo and its dependencies ------------------------------
FROM python AS build
RUN if ! python3 -c 'import ensurepip' 2>/dev/null; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv \
      && rm -rf /var/lib/apt/lists/*; \
    fi
RUN python3 -m venv /opt/nfvo
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
COPY --from=requirements /requirements.txt /tmp/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip,sharing=locked \
    --mount=type=secret,id=pip-ca \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
    && /opt/nfvo/bin/pip install -r /tmp/requirements.txt
COPY pyproject.toml README.md /src/
COPY src /src/src
RUN --mount=type=cache,target=/root/.cache/pip,sharing=locked \
    --mount=type=secret,id=pip-ca \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
    && /opt/nfvo/bin/pip install --no-deps /src \
    && /opt/nfvo/bin/pip uninstall -q -y pip setuptools \
    && rm -f /opt/nfvo/bin/activate* /opt/nfvo/bin/Activate.ps1
COPY deploy/image/healthcheck.py /opt/nfvo/bin/nfvo-healthcheck

# -- runtime: the interpreter and the virtual environment, nothing else -----------------------
FROM python AS runtime
RUN groupadd --system --gid 10001 nfvo \
    && useradd --system --uid 10001 --gid nfvo --home-dir /var/lib/nfvo --no-create-home \
         --shell /usr/sbin/nologin nfvo \
    && install -d -o nfvo -g nfvo -m 0700 /var/lib/nfvo
COPY --from=build /opt/nfvo /opt/nfvo
ENV PATH=/opt/nfvo/bin:$PATH \
    NFVO_DATA_DIR=/var/lib/nfvo \
    HOME=/var/lib/nfvo \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /var/lib/nfvo
VOLUME ["/var/lib/nfvo"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "/opt/nfvo/bin/nfvo-healthcheck"]
ENTRYPOINT ["nfvo"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
