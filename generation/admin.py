from django.contrib import admin

from .models import Batch, Job, MarketPreset, ModelLook, Photo, Product, ProductLocalization, Scene, Video


@admin.register(MarketPreset)
class MarketPresetAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "locale", "currency", "direction")
    filter_horizontal = ("scenes",)


admin.site.register(Scene)
admin.site.register(ModelLook)
admin.site.register(Product)
admin.site.register(ProductLocalization)
admin.site.register(Photo)
admin.site.register(Batch)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "organization", "state", "attempt", "progress", "stage", "engine", "heartbeat_at")
    list_filter = ("state", "engine")


admin.site.register(Video)
