# ShopVideo CPU worker: the compositor engine, ingest and previews (Celery queue `cpu`). No torch.
# Build from the repository root: docker build -f docker/worker-cpu.Dockerfile -t shopvideo-worker-cpu .
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=shop_video.settings SHOPVIDEO_VAR_DIR=/app/var SHOPVIDEO_MEDIA_ROOT=/data/media \
    SHOPVIDEO_WORK_DIR=/data/work

RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext fonts-noto-core fonts-noto-cjk fonts-dejavu-core libraqm0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml requirements.lock ./
COPY shop_video shop_video
COPY generation generation
COPY billing billing
RUN pip install -c requirements.lock .
COPY . .
RUN find . -name '*.po' -not -path './var/*' -exec sh -c 'msgfmt --check-format -o "${1%.po}.mo" "$1"' _ {} \; \
 && useradd --create-home --uid 1000 app && mkdir -p /data/media /data/work && chown -R app /app/var /data

USER app
# One process per core is what the compositor wants; set CELERY_CONCURRENCY to the container's CPU limit.
CMD ["sh", "-c", "exec celery -A shop_video worker -Q cpu --concurrency ${CELERY_CONCURRENCY:-2} --hostname cpu@%h --loglevel INFO"]
