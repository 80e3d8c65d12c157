"""Staff review of generations: a fast changelist, bulk decisions and a one-at-a-time review view."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Count, IntegerField, Value, When
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import publication
from .lookups import is_uuid
from .models import Generation, Photo, ShareLink


def thumbnail(url_name, obj, alt, size=72):
    url = reverse(url_name, args=[obj.pk])
    return format_html(
        '<img src="{}" alt="{}" width="{}" height="{}" loading="lazy" style="border-radius:6px">', url, alt, size, size
    )


def log_review(request, generations, state, note=""):
    """One admin-log entry per reviewed generation (the review history)."""
    content_type = ContentType.objects.get_for_model(Generation)
    message = f"Review: {state}" + (f" ({note})" if note else "")
    LogEntry.objects.bulk_create(
        LogEntry(
            user=request.user,
            content_type=content_type,
            object_id=str(g.pk),
            object_repr=str(g)[:200],
            action_flag=CHANGE,
            change_message=message,
        )
        for g in generations
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason (shown to the owners)"), max_length=500)


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ("face_thumbnail", "dog_thumbnail", "owner", "breed", "status", "review_state", "shared", "created_at")
    list_display_links = ("dog_thumbnail",)
    list_filter = ("review_state", "status", "breed", "shared", "created_at")
    search_fields = ("owner__username",)
    list_select_related = ("owner",)
    list_per_page = 50
    show_full_result_count = False  # one COUNT(*) of every row less per filtered page
    actions = ("approve", "reject")
    fieldsets = (
        (_("Review"), {"fields": ("review_state", "review_note", "reviewed_by", "reviewed_at", "images")}),
        (_("Generation"), {"fields": ("owner", "photo", "face_index", "breed", "coat", "status", "step", "steps", "error")}),
        (_("Parameters"), {"fields": ("seed", "parameter_table", "infotext")}),
        (
            pgettext_lazy("admin section", "Running"),
            {"fields": ("created_at", "started_at", "finished_at", "timings", "worker_name", "attempts", "requeues", "job_id")},
        ),
        (_("Sharing"), {"fields": ("shared", "show_username")}),
        (_("Failure"), {"fields": ("traceback",), "classes": ("collapse",)}),
    )
    readonly_fields = (
        "images",
        "reviewed_by",
        "reviewed_at",
        "owner",
        "photo",
        "face_index",
        "breed",
        "coat",
        "status",
        "step",
        "steps",
        "error",
        "seed",
        "parameter_table",
        "infotext",
        "created_at",
        "started_at",
        "finished_at",
        "timings",
        "worker_name",
        "attempts",
        "requeues",
        "job_id",
        "shared",
        "show_username",
        "traceback",
    )

    def get_ordering(self, request):
        pending_first = Case(
            When(review_state=Generation.Review.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return (pending_first.asc(), "-created_at")

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("Person"))
    def face_thumbnail(self, obj):
        return thumbnail("gallery:generation-face", obj, _("face crop")) if obj.face_crop else "—"

    @admin.display(description=_("Dog"))
    def dog_thumbnail(self, obj):
        return thumbnail("gallery:generation-thumbnail", obj, _("dog")) if obj.thumbnail else str(obj)

    @admin.display(description=_("Images"))
    def images(self, obj):
        kinds = (
            ("gallery:generation-face", obj.face_crop, _("face crop")),
            ("gallery:generation-control", obj.control_image, _("control image")),
            ("gallery:generation-result", obj.result, _("dog")),
        )
        return (
            format_html_join(" ", "{}", ((thumbnail(name, obj, alt, size=256),) for name, stored, alt in kinds if stored)) or "—"
        )

    @admin.display(description=_("Parameters"))
    def parameter_table(self, obj):
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", sorted(obj.params.items()))
        return format_html("<table>{}</table>", rows)

    def save_model(self, request, obj, form, change):
        if {"review_state", "review_note"} & set(form.changed_data):
            obj.reviewed_by, obj.reviewed_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Approve selected generations"))
    def approve(self, request, queryset):
        selected = list(queryset)
        count = Generation.review_many(queryset, Generation.Review.APPROVED, request.user)
        log_review(request, selected, Generation.Review.APPROVED)
        self.message_user(request, _("%(n)d generation(s) approved.") % {"n": count}, messages.SUCCESS)

    @admin.action(description=_("Reject selected generations…"))
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            selected = list(queryset)
            reason = form.cleaned_data["reason"]
            count = Generation.review_many(queryset, Generation.Review.REJECTED, request.user, reason)
            log_review(request, selected, Generation.Review.REJECTED, reason)
            self.message_user(request, _("%(n)d generation(s) rejected.") % {"n": count}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "queryset": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "title": _("Reject generations"),
        }
        return TemplateResponse(request, "admin/gallery/generation/reject.html", context)

    def get_urls(self):
        review = self.admin_site.admin_view(self.review_view)
        return [path("review/", review, name="gallery_generation_review"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "review_url": reverse("admin:gallery_generation_review"),
            "rq_url": reverse("django_rq:home"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def review_view(self, request):
        """One pending generation at a time, oldest first: approve, reject or skip, then the next."""
        if not self.has_change_permission(request):
            return redirect("admin:index")
        if request.method == "POST":
            chosen = request.POST.get("generation", "")
            generation = Generation.objects.filter(pk=chosen).first() if is_uuid(chosen) else None
            if generation is None:
                self.message_user(request, _("That generation no longer exists; here is the next one."), messages.WARNING)
                return redirect("admin:gallery_generation_review")
            decision = request.POST.get("decision")
            if decision in (Generation.Review.APPROVED, Generation.Review.REJECTED):
                note = request.POST.get("note", "").strip()[:500]
                Generation.review_many(Generation.objects.filter(pk=generation.pk), decision, request.user, note)
                log_review(request, [generation], decision, note)
            skipped = request.POST.get("skipped", "")
            if decision == "skip":
                skipped = ",".join(filter(None, [skipped, str(generation.pk)]))
            return redirect(reverse("admin:gallery_generation_review") + (f"?skipped={skipped}" if skipped else ""))
        skipped = [s for s in request.GET.get("skipped", "").split(",") if is_uuid(s)]
        pending = Generation.objects.filter(review_state=Generation.Review.PENDING, status=Generation.Status.SUCCEEDED)
        pending = pending.exclude(pk__in=skipped).select_related("owner").order_by("created_at")
        context = {
            **self.admin_site.each_context(request),
            # One task per screen (and no sideways scroll on a phone): no app list beside it.
            "is_nav_sidebar_enabled": False,
            "opts": self.model._meta,
            "title": _("Review generations"),
            "generation": pending.first(),
            "remaining": pending.count(),
            "skipped": ",".join(skipped),
        }
        return TemplateResponse(request, "admin/gallery/generation/review.html", context)


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ("preview", "owner", "face_count", "width", "height", "created_at")
    list_select_related = ("owner",)
    search_fields = ("owner__username",)
    list_filter = ("created_at",)
    fields = ("preview", "owner", "original_name", "width", "height", "face_count", "landmark_summary", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Photo"))
    def preview(self, obj):
        return thumbnail("gallery:photo-thumbnail", obj, _("photo")) if obj.thumbnail else "—"

    @admin.display(description=_("Faces"))
    def landmark_summary(self, obj):
        rows = (
            (i + 1, face["box"], len(face["landmarks"]), ", ".join(f"{k} {v:.0f}°" for k, v in face.get("pose", {}).items()))
            for i, face in enumerate(obj.faces)
        )
        return format_html("<ul>{}</ul>", format_html_join("", "<li>#{}: box {}, {} landmarks, {}</li>", rows))


admin.site.unregister(User)


@admin.register(User)
class UsageUserAdmin(UserAdmin):
    list_display = ("username", "email", "photo_count", "generation_count", "is_staff", "date_joined", "last_login")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(photo_total=Count("photos", distinct=True), generation_total=Count("generations", distinct=True))
        )

    @admin.display(description=_("Photos"), ordering="photo_total")
    def photo_count(self, obj):
        return obj.photo_total

    @admin.display(description=_("Generations"), ordering="generation_total")
    def generation_count(self, obj):
        return obj.generation_total


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    """Owners' unlisted links; reviewers disable any of them here (the link then answers 404).

    Who may is gallery.publication's to say: the Reviewers group, not only superusers."""

    list_display = ("token", "generation", "owner", "created_at", "disabled")
    list_filter = ("disabled",)
    list_editable = ("disabled",)
    list_select_related = ("generation__owner",)
    search_fields = ("token", "generation__owner__username")
    readonly_fields = ("token", "generation", "created_at")
    actions = ("disable",)

    @admin.display(description=_("Owner"))
    def owner(self, link):
        return link.generation.owner

    @admin.action(description=_("Disable the selected links"), permissions=["change"])
    def disable(self, request, queryset):
        queryset.update(disabled=True)

    def has_add_permission(self, request):
        return False

    def has_view_permission(self, request, obj=None):
        return publication.may_turn_off_links(request.user)

    def has_change_permission(self, request, obj=None):
        return publication.may_turn_off_links(request.user)
