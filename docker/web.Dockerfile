# ShopVideo web: Django behind gunicorn, static files served by whitenoise. No torch: the web never renders.
# Build from the repository root: docker build -f docker/web.Dockerfile -t shopvideo-web .
FROM python:3.11-slim-bookworm

# shop_video.settings here is for the build (collectstatic needs no secrets); compose.yaml runs every container with
# DJANGO_SETTINGS_MODULE=shop_video.settings_production.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=shop_video.settings SHOPVIDEO_VAR_DIR=/app/var SHOPVIDEO_MEDIA_ROOT=/data/media

# gettext compiles the catalogues; fonts and raqm are for caption previews (Latin, CJK, Arabic).
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
# collectstatic signs nothing but loads the settings, which need a key: a throwaway one, kept in no layer.
RUN find . -name '*.po' -not -path './var/*' -exec sh -c 'msgfmt --check-format -o "${1%.po}.mo" "$1"' _ {} \; \
 && DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput -v 0 \
 && useradd --create-home --uid 1000 app && mkdir -p /data/media && chown -R app /app/var /data

USER app
EXPOSE 8000
# Workers, timeouts, the graceful drain on SIGTERM: shop_video/gunicorn_conf.py (WEB_CONCURRENCY, GUNICORN_*).
CMD ["gunicorn", "-c", "python:shop_video.gunicorn_conf", "shop_video.wsgi:application"]
