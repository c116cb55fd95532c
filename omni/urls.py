from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from omni import views

admin.site.site_header = "Omni back-office"
admin.site.site_title = "Omni"
admin.site.index_title = "Stores, stock, customers, loyalty and campaigns"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("clerk/", include("omni.clerk.urls")),
    path("api/v1/", include("omni.api.urls")),
]

if settings.DEBUG:
    # Uploaded product images in the demo; production serves MEDIA_ROOT from the web server.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
