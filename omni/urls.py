from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from omni import views
from omni.media import serve_media

admin.site.site_header = "Omni back-office"
admin.site.site_title = "Omni"
admin.site.index_title = "Stores, stock, customers, loyalty and campaigns"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("clerk/", include("omni.clerk.urls")),
    path("api/v1/", include("omni.api.urls")),
    # Links in messages to customers: unsubscribe, open pixel, tracked links.
    path("", include("customers.urls")),
    # Uploaded product pictures, with their format's type and nosniff, with DEBUG on or off
    # (a web server in front may serve MEDIA_ROOT itself, with the same headers).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve_media, name="media"),
]
