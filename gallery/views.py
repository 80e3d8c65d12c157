from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


def home(request):
    if request.user.is_authenticated:
        return redirect("gallery:index")
    return render(request, "home.html")


@login_required
def index(request):
    return render(request, "gallery/index.html", {"generations": [], "photos": []})
