# ShopVideo GPU worker: the DiT engine (Wan2.1 VACE through diffusers) on one GPU, Celery queue `gpu`.
# Build from the repository root: docker build -f docker/worker-gpu.Dockerfile -t shopvideo-worker-gpu .
#
# torch: torch==2.13.0 from the default package index, which for Linux x86_64 is the CUDA build; it brings its
# own CUDA runtime and cuDNN as nvidia-* wheels, so the base image supplies only the driver plumbing that the
# NVIDIA container toolkit expects (the host needs a driver recent enough for that CUDA, 12.8 or newer).
# Ubuntu 24.04's Python is 3.12 (the CPU images and CI use 3.11; the lock's versions exist for both).
FROM nvidia/cuda:12.8.1-runtime-ubuntu24.04

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    DEBIAN_FRONTEND=noninteractive \
    DJANGO_SETTINGS_MODULE=shop_video.settings SHOPVIDEO_VAR_DIR=/app/var SHOPVIDEO_MEDIA_ROOT=/data/media \
    SHOPVIDEO_WORK_DIR=/data/work SHOPVIDEO_MODEL_PATH=/models/wan-vace \
    HF_HUB_OFFLINE=1 NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv gettext fonts-noto-core fonts-noto-cjk \
      fonts-dejavu-core libraqm0 libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /venv
ENV PATH=/venv/bin:$PATH

WORKDIR /app
COPY pyproject.toml requirements.lock ./
COPY shop_video shop_video
COPY generation generation
COPY billing billing
# torch first, so the CUDA build chosen here is the one everything else resolves against; then the project with
# the DiT extra, then controlnet-aux without its dependencies (they would add torchvision and timm).
RUN pip install torch==2.13.0 \
 && pip install -c requirements.lock '.[dit]' \
 && pip install --no-deps controlnet_aux==0.0.10
COPY . .
RUN find . -name '*.po' -not -path './var/*' -exec sh -c 'msgfmt --check-format -o "${1%.po}.mo" "$1"' _ {} \; \
 && useradd --create-home --uid 1001 app && mkdir -p /data/media /data/work && chown -R app /app/var /data

USER app
# One process per GPU, concurrency 1: the pipeline is loaded once per process and kept warm between jobs.
CMD ["sh", "-c", "exec celery -A shop_video worker -Q gpu --concurrency 1 --hostname gpu${GPU_INDEX:-0}@%h --loglevel INFO"]
