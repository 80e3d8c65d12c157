from django.urls import path

from . import views

app_name = "gallery"

urlpatterns = [
    path("gallery/", views.index, name="index"),
    path("photos/new/", views.upload, name="upload"),
    path("photos/<uuid:pk>/", views.photo, name="photo"),
    path("photos/<uuid:pk>/landmarks.json", views.photo_landmarks, name="photo-landmarks"),
    path("photos/<uuid:pk>/image.jpg", views.photo_image, {"kind": "image"}, name="photo-image"),
    path("photos/<uuid:pk>/thumb.webp", views.photo_image, {"kind": "thumb"}, name="photo-thumbnail"),
    path("photos/<uuid:pk>/delete/", views.photo_delete, name="photo-delete"),
    path("generations/<uuid:pk>/dog.png", views.generation_image, {"kind": "result"}, name="generation-result"),
    path("generations/<uuid:pk>/thumb.webp", views.generation_image, {"kind": "thumb"}, name="generation-thumbnail"),
    path("generations/<uuid:pk>/control.png", views.generation_image, {"kind": "control"}, name="generation-control"),
    path("generations/<uuid:pk>/face.webp", views.generation_image, {"kind": "face"}, name="generation-face"),
    path("generations/<uuid:pk>/download/", views.generation_image, {"kind": "download"}, name="generation-download"),
]
