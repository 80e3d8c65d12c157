from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

from gallery import account_views, dev_outbox, errors, health, metrics, share_links, showcase, views
from gallery.reviewers import reviewers_only

# django-rq's dashboard, for reviewers only (it lists generation ids). Its API-token routes are left
# out: we set no token, and `stats.json/<token>/` raised TypeError on a non-ASCII token.
rq_urlpatterns = [
    re_path(p.pattern.regex.pattern, reviewers_only(p.callback), name=p.name)
    for p in get_api_urlpatterns()
    if "token" not in p.pattern.regex.pattern
] + get_admin_urlpatterns(view_wrapper=reviewers_only)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("accounts/signup/", account_views.signup, name="signup"),
    path("accounts/signup/sent/", account_views.signup_sent, name="signup-sent"),
    path("accounts/signup/activate/<str:token>/", account_views.signup_activate, name="signup-activate"),
    path("dev/outbox/", dev_outbox.outbox, name="dev-outbox"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", account_views.account, name="account"),
    path("accounts/delete/", account_views.delete_account, name="account-delete"),
    path("accounts/export/", account_views.export, name="account-export"),
    path("accounts/password/", account_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/password/reset/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("showcase/", showcase.showcase, name="showcase"),
    path("showcase/<uuid:pk>/dog.png", showcase.showcase_image, {"kind": "result"}, name="showcase-image"),
    path("showcase/<uuid:pk>/thumb.webp", showcase.showcase_image, {"kind": "thumb"}, name="showcase-thumbnail"),
    path("d/<str:token>/", share_links.dog_link, name="dog-link"),
    path("d/<str:token>/dog.png", share_links.dog_link_image, name="dog-link-image"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("gallery.urls")),
    path("admin/rq/", include((rq_urlpatterns, "django_rq"))),
    path("admin/", admin.site.urls),
]

handler400 = errors.bad_request
handler500 = errors.server_error
