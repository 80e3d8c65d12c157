from django.urls import path

from . import bulk_download, group_views, lineup_views, png_params, share_links, views

app_name = "gallery"

urlpatterns = [
    path("gallery/", views.index, name="index"),
    path("photos/new/", views.upload, name="upload"),
    path("photos/<uuid:pk>/", views.photo, name="photo"),
    path("photos/<uuid:pk>/landmarks.json", views.photo_landmarks, name="photo-landmarks"),
    path("photos/<uuid:pk>/image.jpg", views.photo_image, {"kind": "image"}, name="photo-image"),
    path("photos/<uuid:pk>/thumb.webp", views.photo_image, {"kind": "thumb"}, name="photo-thumbnail"),
    path("photos/<uuid:pk>/delete/", views.photo_delete, name="photo-delete"),
    path("photos/<uuid:pk>/generate/", views.generate, name="generate"),
    path("photos/<uuid:pk>/generate-group/", group_views.generate_group, name="generate-group"),
    path("photos/<uuid:pk>/generate-lineup/", lineup_views.generate_lineup, name="generate-lineup"),
    path("lineups/<uuid:pk>/", lineup_views.lineup, name="lineup"),
    path("lineups/<uuid:pk>/status.json", lineup_views.lineup_status, name="lineup-status"),
    path("generations/<uuid:pk>/", views.generation, name="generation"),
    path("generations/<uuid:pk>/status.json", views.generation_status, name="generation-status"),
    path("generations/<uuid:pk>/preview.webp", views.generation_preview, name="generation-preview"),
    path("generations/<uuid:pk>/cancel/", views.generation_cancel, name="generation-cancel"),
    path("generations/<uuid:pk>/retry/", views.generation_retry, name="generation-retry"),
    path("generations/<uuid:pk>/delete/", views.generation_delete, name="generation-delete"),
    path("generations/<uuid:pk>/share/", views.generation_share, name="generation-share"),
    path("gallery/download/", bulk_download.download, name="download"),
    path("generations/params-from-png/", png_params.params_from_png, name="params-from-png"),
    path("generations/<uuid:pk>/star/", views.generation_star, name="generation-star"),
    path("generations/<uuid:pk>/link/", share_links.generation_link, name="generation-link"),
    path("generations/<uuid:pk>/regenerate/", views.generation_regenerate, name="generation-regenerate"),
    path("generations/<uuid:pk>/dog.png", views.generation_image, {"kind": "result"}, name="generation-result"),
    path("generations/<uuid:pk>/dog.webp", views.generation_image, {"kind": "display"}, name="generation-display"),
    path("generations/<uuid:pk>/thumb.webp", views.generation_image, {"kind": "thumb"}, name="generation-thumbnail"),
    path("generations/<uuid:pk>/control.png", views.generation_image, {"kind": "control"}, name="generation-control"),
    path("generations/<uuid:pk>/face.webp", views.generation_image, {"kind": "face"}, name="generation-face"),
    path("generations/<uuid:pk>/download/", views.generation_image, {"kind": "download"}, name="generation-download"),
]
