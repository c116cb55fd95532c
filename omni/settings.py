"""Django settings for Omni, read from the environment (see README, "Configuration").

The defaults are production-safe: DEBUG is off, and then a strong SECRET_KEY, a shared
cache (CACHE_URL) and a real PAYMENT_PROVIDER are required. ``make run`` sets DEBUG=1 for the
local demo: SQLite under ``var/``, Celery on kombu's filesystem transport, a fixed demo key,
the demo payment provider and a per-process cache.
"""

import re
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

from omni.core.environment import (
    ConfigurationError,
    celery_filesystem_options,
    database_from_env,
    env_bool,
    env_class_path,
    env_int,
    env_list,
    env_str,
    rate_limits_from_env,
    secrets_from_env,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OMNI_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)

DEMO_SECRET_KEY = "insecure-local-demo-key-never-used-with-debug-off"
MIN_SECRET_KEY_LENGTH = 50
SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ConfigurationError("SECRET_KEY", "must be set when DEBUG is off")
    SECRET_KEY = DEMO_SECRET_KEY
elif not DEBUG:
    # Signed links (sign-up verification), sessions and CSRF are only as strong as this key.
    if SECRET_KEY == DEMO_SECRET_KEY or SECRET_KEY.startswith("django-insecure"):
        raise ConfigurationError("SECRET_KEY", "is a known demo key; generate a random one")
    if len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH or len(set(SECRET_KEY)) < 5:
        raise ConfigurationError(
            "SECRET_KEY", f"is too weak: use at least {MIN_SECRET_KEY_LENGTH} random characters"
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "omni",
    "customers",
    "inventory",
    "loyalty",
    "campaigns",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "omni.urls"
WSGI_APPLICATION = "omni.wsgi.application"
ASGI_APPLICATION = "omni.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_env(VAR_DIR / "omni.sqlite3")}
# API rate limits and lockouts count in the cache: every web process must share it (Redis).
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL is None and not DEBUG:
    raise ConfigurationError(
        "CACHE_URL",
        "must name a shared cache (redis://...) when DEBUG is off: rate limits "
        "counted per process are multiplied by the number of processes",
    )
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en-gb")
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = env_str("DEFAULT_CURRENCY", "EUR")
# Orders: how long a pick-up cart holds stock, and who takes payments (see orders/payments.py).
CART_HOLD_MINUTES = env_int("CART_HOLD_MINUTES", 20)
# A delivery shipment not shipped this many hours after it was allocated is late.
FULFILMENT_LATE_HOURS = env_int("FULFILMENT_LATE_HOURS", 24)
# Carriers' tracking webhooks (POST /api/v1/carriers/<carrier>/events) are signed with one
# secret per carrier: "colissimo=...,dhl=..." or a JSON object. Optional: a carrier without a
# secret is answered 503 not_configured (a shop may never use a carrier webhook).
CARRIER_WEBHOOK_SECRETS = secrets_from_env("CARRIER_WEBHOOK_SECRETS")
# What anonymous (guest) carts may hold for pick-up: units per cart, units per client at one
# store, and the share (percent) of a SKU's stock at a store all guest carts may hold together.
GUEST_HOLD_MAX_UNITS = env_int("GUEST_HOLD_MAX_UNITS", 10)
GUEST_HOLD_MAX_UNITS_PER_CLIENT = env_int("GUEST_HOLD_MAX_UNITS_PER_CLIENT", 20)
GUEST_HOLD_MAX_SHARE = env_int("GUEST_HOLD_MAX_SHARE", 50)
DEMO_PAYMENT_PROVIDER = "orders.payments.DemoProvider"
PAYMENT_PROVIDER = env_str("PAYMENT_PROVIDER", DEMO_PAYMENT_PROVIDER if DEBUG else "")
if not DEBUG and PAYMENT_PROVIDER in ("", DEMO_PAYMENT_PROVIDER):
    # The demo provider accepts every payment: in production every checkout would be "paid".
    raise ConfigurationError(
        "PAYMENT_PROVIDER", "must name your payment provider's class when DEBUG is off"
    )
# Storefronts show 1..LOW_STOCK_BAND available units as "low" rather than "available".
LOW_STOCK_BAND = env_int("LOW_STOCK_BAND", 3)
# Sign-up e-mails a link to the storefront's page that confirms it ({token} is replaced); the
# page sends the token and the password to POST /api/v1/customers/sign-up/confirm.
SIGN_UP_LINK_HOURS = env_int("SIGN_UP_LINK_HOURS", 24)
SIGN_UP_CONFIRM_URL = env_str(
    "SIGN_UP_CONFIRM_URL", "http://localhost:3000/account/confirm?token={token}" if DEBUG else None
)
if SIGN_UP_CONFIRM_URL is None or "{token}" not in SIGN_UP_CONFIRM_URL:
    raise ConfigurationError(
        "SIGN_UP_CONFIRM_URL",
        "must be the storefront's confirmation page with {token} in it, e.g. "
        "https://shop.example.com/account/confirm?token={token}",
    )
# Service conversations: how long the satisfaction (CSAT) link e-mailed when a conversation is
# solved keeps working.
CONVERSATION_CSAT_DAYS = env_int("CONVERSATION_CSAT_DAYS", 30)
# Region assumed for phone numbers written without a country code (ISO 3166-1 alpha-2).
DEFAULT_PHONE_REGION = env_str("DEFAULT_PHONE_REGION", "FR")
# Credentials: a customer token dies unused for IDLE days, and MAX days after sign-in at the
# latest; an integration token is issued for INTEGRATION_TOKEN_DAYS unless told otherwise.
CUSTOMER_TOKEN_IDLE_DAYS = env_int("CUSTOMER_TOKEN_IDLE_DAYS", 30)
CUSTOMER_TOKEN_MAX_DAYS = env_int("CUSTOMER_TOKEN_MAX_DAYS", 90)
INTEGRATION_TOKEN_DAYS = env_int("INTEGRATION_TOKEN_DAYS", 90)
# The most customers one admin export may hold (larger selections are refused).
CUSTOMER_EXPORT_MAX_ROWS = env_int("CUSTOMER_EXPORT_MAX_ROWS", 10_000)
# Segments (campaigns): the RFM window for frequency and monetary value; the largest CSV of
# static members taken (rows, bytes); how long the admin's live count may run.
SEGMENT_RFM_WINDOW_DAYS = env_int("SEGMENT_RFM_WINDOW_DAYS", 365)
SEGMENT_UPLOAD_MAX_ROWS = env_int("SEGMENT_UPLOAD_MAX_ROWS", 100_000)
SEGMENT_UPLOAD_MAX_BYTES = env_int("SEGMENT_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
SEGMENT_COUNT_TIMEOUT_SECONDS = env_int("SEGMENT_COUNT_TIMEOUT_SECONDS", 10)
# Codes refused at one till (one clerk log-in) in an hour before it may try no more: the
# storefront API is rate-limited instead (``coupon.*`` in API_RATE_LIMITS).
COUPON_REFUSALS_PER_HOUR = env_int("COUPON_REFUSALS_PER_HOUR", 20)
# Recommendations ("also bought"): orders of the last RECOMMEND_WINDOW_DAYS count; a pair of
# products must share RECOMMEND_MIN_SUPPORT orders to count; each product keeps its
# RECOMMEND_PER_PRODUCT best pairs.
RECOMMEND_WINDOW_DAYS = env_int("RECOMMEND_WINDOW_DAYS", 365)
RECOMMEND_MIN_SUPPORT = env_int("RECOMMEND_MIN_SUPPORT", 3)
RECOMMEND_PER_PRODUCT = env_int("RECOMMEND_PER_PRODUCT", 20)
# Campaigns: how many audience members one batch of a send plans and queues (one transaction
# each); products bought in the last N days are never recommended in a message.
CAMPAIGN_SEND_BATCH_SIZE = env_int("CAMPAIGN_SEND_BATCH_SIZE", 500)
CAMPAIGN_RECENT_PURCHASE_DAYS = env_int("CAMPAIGN_RECENT_PURCHASE_DAYS", 30)
# Journeys: how many due enrollments one batch of the engine advances (one transaction each).
JOURNEY_BATCH_SIZE = env_int("JOURNEY_BATCH_SIZE", 500)
# Customer lifetime value (campaigns.reporting.clv): the predicted CLV's horizon and yearly
# discount rate (percent), the holdout period of the calibration report, and the fewest
# customers with a repeat purchase the models are fitted on (fewer: a clear refusal).
CLV_HORIZON_DAYS = env_int("CLV_HORIZON_DAYS", 365)
CLV_DISCOUNT_PERCENT = env_int("CLV_DISCOUNT_PERCENT", 10)
CLV_HOLDOUT_DAYS = env_int("CLV_HOLDOUT_DAYS", 90)
CLV_MIN_REPEAT_CUSTOMERS = env_int("CLV_MIN_REPEAT_CUSTOMERS", 100)
# Channel attribution (campaigns.reporting.attribution): how far before an order its touchpoints
# count; the half-life of the time-decay model; the position-based model's first, middle and
# last shares (summing to 1). The service refuses values that make no sense.
ATTRIBUTION_LOOKBACK_DAYS = env_int("ATTRIBUTION_LOOKBACK_DAYS", 30)
ATTRIBUTION_HALF_LIFE_DAYS = env_int("ATTRIBUTION_HALF_LIFE_DAYS", 7)
ATTRIBUTION_POSITION_WEIGHTS = env_list("ATTRIBUTION_POSITION_WEIGHTS", ["0.4", "0.2", "0.4"])
# Conversion report (campaigns.reporting.conversion): an order this many days after a product
# view or add to cart counts as that visitor's conversion (the report's form can change it).
CONVERSION_WINDOW_DAYS = env_int("CONVERSION_WINDOW_DAYS", 7)

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Product image uploads larger than this (bytes or pixels) are refused (decompression bombs).
MAX_PRODUCT_IMAGE_BYTES = env_int("MAX_PRODUCT_IMAGE_BYTES", 10 * 1024 * 1024)
MAX_PRODUCT_IMAGE_PIXELS = env_int("MAX_PRODUCT_IMAGE_PIXELS", 40_000_000)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

if not DEBUG:
    # Serves collected static files from the app processes; runserver does it when debugging.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

# --- Security: strict whenever DEBUG is off (``manage.py check --deploy`` passes) -------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        # Only behind a proxy that sets X-Forwarded-Proto itself and strips the client's.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Staff surfaces: log-in lockout (django-axes), pick-up codes, health --------------------
# Wrong passwords at /clerk/login/ and /admin/login/ are counted in the database (so every web
# process sees them) per username AND client address together: after the limit that pair is
# refused, the right password too, for the cool-off or until a manager deletes the attempt in
# the admin (Axes → Access attempts). Keyed on both so that nobody can lock a clerk out of the
# till from elsewhere. Axes takes the address from omni.core.api.client_ip (TRUSTED_PROXY_COUNT).
STAFF_LOGIN_FAILURE_LIMIT = env_int("STAFF_LOGIN_FAILURE_LIMIT", 5)
STAFF_LOGIN_COOLOFF_MINUTES = env_int("STAFF_LOGIN_COOLOFF_MINUTES", 15)
if STAFF_LOGIN_FAILURE_LIMIT < 1:
    raise ConfigurationError("STAFF_LOGIN_FAILURE_LIMIT", "must be 1 or more")
if STAFF_LOGIN_COOLOFF_MINUTES < 1:
    raise ConfigurationError("STAFF_LOGIN_COOLOFF_MINUTES", "must be 1 or more")
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last: turns a lockout into its page
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before checking
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = STAFF_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=STAFF_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "omni.core.api.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "omni.views.staff_locked_out"  # a page, status 429
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
# Wrong pick-up codes an order takes before its hand-over is locked until a manager unlocks it.
PICKUP_CODE_MAX_ATTEMPTS = env_int("PICKUP_CODE_MAX_ATTEMPTS", 5)
if PICKUP_CODE_MAX_ATTEMPTS < 1:
    raise ConfigurationError("PICKUP_CODE_MAX_ATTEMPTS", "must be 1 or more")
# /healthz asks the broker at most once per this many seconds (shared through the cache).
HEALTH_BROKER_CHECK_SECONDS = env_int("HEALTH_BROKER_CHECK_SECONDS", 15)

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = celery_filesystem_options(VAR_DIR / "celery")
    # The filesystem transport has no fan-out exchange, which remote control needs.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Default schedules; django-celery-beat copies them into the database, where the admin edits them.
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "omni.tasks.heartbeat", "schedule": 60.0},
    "expire-cart-holds": {"task": "inventory.expire_cart_holds", "schedule": 60.0},
    "raise-low-stock-alerts": {"task": "inventory.raise_low_stock_alerts", "schedule": 900.0},
    "send-pickup-reminders": {"task": "orders.send_pickup_reminders", "schedule": 900.0},
    "expire-uncollected-pickups": {
        "task": "orders.expire_uncollected_pickups",
        "schedule": 900.0,
    },
    # Wish-list news for campaigns (back in stock, price dropped, low stock), once per change.
    "detect-wish-list-events": {"task": "orders.detect_wish_list_events", "schedule": 900.0},
    "mature-points": {"task": "loyalty.mature_points", "schedule": 3600.0},
    "expire-points": {"task": "loyalty.expire_points", "schedule": crontab(hour=2, minute=0)},
    "evaluate-tiers": {"task": "loyalty.evaluate_tiers", "schedule": crontab(hour=3, minute=0)},
    # Gift and wallet card balances past the programme's expiry or inactivity months.
    "expire-stored-value": {
        "task": "loyalty.expire_stored_value",
        "schedule": crontab(hour=2, minute=30),
    },
    "requeue-stranded-notifications": {
        "task": "customers.requeue_stranded_notifications",
        "schedule": 600.0,
    },
    "purge-idempotency-keys": {"task": "omni.purge_idempotency_keys", "schedule": 3600.0},
    "purge-expired-sign-up-requests": {
        "task": "customers.purge_expired_sign_up_requests",
        "schedule": crontab(hour=4, minute=0),
    },
    "purge-expired-customer-tokens": {
        "task": "customers.purge_expired_customer_tokens",
        "schedule": crontab(hour=4, minute=30),
    },
    "refresh-rfm-scores": {
        "task": "campaigns.refresh_rfm_scores",
        "schedule": crontab(hour=1, minute=30),
    },
    "refresh-segments": {"task": "campaigns.refresh_segments", "schedule": crontab(minute=15)},
    "refresh-affinities": {
        "task": "campaigns.refresh_affinities",
        "schedule": crontab(hour=1, minute=45),
    },
    "start-due-campaigns": {"task": "campaigns.start_due_campaigns", "schedule": 60.0},
    "run-journeys": {"task": "campaigns.run_journeys", "schedule": 300.0},
    "release-waiting-notifications": {
        "task": "customers.release_waiting_notifications",
        "schedule": 60.0,
    },
    "compute-customer-values": {
        "task": "campaigns.compute_customer_values",
        "schedule": crontab(hour=2, minute=30),
    },
    "compute-attribution": {
        "task": "campaigns.compute_attribution",
        "schedule": crontab(hour=2, minute=15),
    },
}

# --- Notifications (customers.notifications) ------------------------------------------------
# One backend per channel: a class with ``send(message)``. E-mail goes through Django's mail
# (EMAIL_BACKEND below); SMS and push name a provider's class, and until then only log that a
# message was due (its id, channel and topic: never the address, the words or a code).
NOTIFICATION_BACKENDS = {
    "email": "customers.notifications.EmailBackend",
    "sms": env_class_path("NOTIFICATION_SMS_BACKEND", "customers.notifications.ConsoleBackend"),
    "push": env_class_path("NOTIFICATION_PUSH_BACKEND", "customers.notifications.ConsoleBackend"),
}
# Marketing messages are not sent in these hours of the customer's own time zone: they wait
# until the end ("21:00-08:00"; "off" for none). Transactional messages are exempt.
MARKETING_QUIET_HOURS = env_str("MARKETING_QUIET_HOURS", "21:00-08:00")
if MARKETING_QUIET_HOURS != "off" and not re.fullmatch(
    r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", MARKETING_QUIET_HOURS
):
    raise ConfigurationError(
        "MARKETING_QUIET_HOURS", "expected HH:MM-HH:MM (e.g. 21:00-08:00) or off"
    )
# Delivery: attempts per message (the first and its retries, after 30 s, 1, 2, 4... min), and
# how many queued messages one batch task sends (large campaigns are cut into such batches).
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 6)
NOTIFICATION_RETRY_BACKOFF_SECONDS = env_int("NOTIFICATION_RETRY_BACKOFF_SECONDS", 30)
NOTIFICATION_BATCH_SIZE = env_int("NOTIFICATION_BATCH_SIZE", 200)
# Where customers reach this server from a message: unsubscribe, open and click links.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://localhost:8000" if DEBUG else None)
if PUBLIC_BASE_URL is None or not re.fullmatch(r"https?://[^/\s]+(/\S*)?", PUBLIC_BASE_URL):
    raise ConfigurationError(
        "PUBLIC_BASE_URL", "must be this server's public address, e.g. https://omni.example.com"
    )
PUBLIC_BASE_URL = PUBLIC_BASE_URL.rstrip("/")
# Satisfaction survey links (customers.services.survey_url) work this many days after sending.
SURVEY_LINK_MAX_AGE_DAYS = env_int("SURVEY_LINK_MAX_AGE_DAYS", 30)
# The demo prints e-mails to the console; production sends through SMTP (EMAIL_HOST...).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Omni <no-reply@omni.example>")

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Storefront first: a call without credentials is told how to authenticate (401 with
    # WWW-Authenticate), as the contract says, rather than refused (403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "omni.core.api.auth.StorefrontAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "omni.core.api.errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "omni.core.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# How many proxies of ours stand in front of the app and append to X-Forwarded-For. 0: the
# header is ignored (anyone can write it) and the socket's address is the client's.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Rate limits per "<scope>.<kind>" (omni/core/api/throttling.py): kinds are address, key (the whole
# storefront app), customer, guest (calls without a customer, per address), email and staff
# (per integration token, or per staff user). Change some with
# API_RATE_LIMITS="sign_in.email=5/hour,checkout.customer=5/min".
API_RATE_LIMITS = {
    "sign_in.address": "20/min",
    "sign_in.email": "10/hour",
    "sign_in.key": "3000/min",
    "sign_up.address": "20/hour",
    "sign_up.email": "5/hour",
    "sign_up.key": "1000/min",
    "sign_up_confirm.address": "20/hour",
    "password_change.address": "20/hour",
    "password_change.customer": "10/hour",
    "cart.address": "120/min",
    "cart.guest": "60/min",
    "cart.customer": "120/min",
    "cart.key": "20000/min",
    "wishlist.address": "120/min",
    "wishlist.guest": "60/min",
    "wishlist.customer": "120/min",
    "wishlist.key": "20000/min",
    "checkout.address": "20/min",
    "checkout.customer": "10/min",
    "checkout.key": "3000/min",
    # Coupon codes: slow guessing per address, per signed-in customer and per storefront key.
    "coupon.address": "20/min",
    "coupon.customer": "10/min",
    "coupon.key": "3000/min",
    # Stored-value cards: opening, claiming (numbers guessed), topping up, buying gift cards.
    "stored_value.address": "30/min",
    "stored_value.customer": "20/min",
    "stored_value.key": "3000/min",
    "quote.address": "120/min",
    "quote.customer": "60/min",
    "quote.key": "20000/min",
    "events.address": "120/min",
    "events.customer": "120/min",
    "events.key": "10000/min",
    # Satisfaction surveys: the answer page (per address) and the in-app API.
    "survey.address": "30/min",
    "survey.customer": "30/min",
    "survey.key": "6000/min",
    "public_read.address": "600/min",
    "public_read.key": "60000/min",
    # Staff and integrations (per integration token, or per user for a session); carriers'
    # webhooks per address (a carrier posts from a few addresses, an attacker from many).
    "fulfilment.staff": "1200/min",
    "carrier_events.address": "600/min",
    "segment_count.staff": "30/min",
    # Service conversations: the helpdesk or chat tool posting customers' messages, and
    # customers writing from their account.
    "support.staff": "1200/min",
    "conversation.customer": "20/min",
    "conversation.key": "3000/min",
    **rate_limits_from_env("API_RATE_LIMITS"),
}
# How long the answer to a call sent with an Idempotency-Key is replayed to retries.
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
SPECTACULAR_SETTINGS = {
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "omni.core.api.idempotency.document_idempotency_errors",
    ],
    "TITLE": "Omni storefront API",
    "DESCRIPTION": (
        "Stock, carts, orders, loyalty and offers for web and mobile storefronts. "
        "Every error has the shape documented as `Error`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets shared by several apps get one name each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "omni.core.channels.Channel",
        "ContactChannelEnum": "customers.models.ContactChannel",
        "OrderStatusEnum": "orders.models.Order.Status",
        "CartStatusEnum": "orders.models.Cart.Status",
        "ShipmentStatusEnum": "orders.models.Shipment.Status",
        "ShipmentLineStatusEnum": "orders.models.ShipmentLine.Status",
        "ParcelStatusEnum": "orders.models.Parcel.Status",
        "FulfilmentEnum": "orders.models.Order.Fulfilment",
        "CheckoutFulfilmentEnum": "orders.api.serializers.CHECKOUT_FULFILMENTS",
        "StoredValueCardStatusEnum": "loyalty.models.StoredValueCard.Status",
        "StoredValueCardKindEnum": "loyalty.models.StoredValueCard.Kind",
        "StoredValueEntryKindEnum": "loyalty.models.StoredValueEntry.Kind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
