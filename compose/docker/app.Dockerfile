# Acme's services (api, web, worker, payments, ingress) and its db-init job: one image per
# release. The context is a release of the monorepo: environments/acme/app, or what the
# deployer exports from the workspace (releases/<sha>/), so an image is exactly one commit.
#   docker build -f compose/docker/app.Dockerfile -t prodbench/acme-app:local environments/acme/app
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

# A fixed non-root uid, shared with prodbench's images, so the run volume has one owner.
RUN groupadd --gid 10001 acme \
 && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin acme \
 && mkdir -p /srv/run \
 && chown acme:acme /srv/run

WORKDIR /app
# Dependencies before sources: a release that changes only code reuses this layer.
COPY requirements.txt ./
RUN pip install -r requirements.txt
# Sources stay root-owned: the services read their code, never write it.
COPY . .

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["python", "-m", "acme.api", "--host", "0.0.0.0", "--port", "8000"]
