from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from clinic.access import role_required
from clinic.roles import Role

LANDING_PAGES = {
    Role.PRACTITIONER: "practitioner_home",
    Role.FRONT_DESK: "desk_home",
    Role.MANAGER: "manager_home",
    Role.PATIENT: "portal_home",
}


@login_required
def home(request):
    role = request.user.primary_role
    if role is None:
        return render(request, "clinic/no_role.html", status=403)
    return redirect(LANDING_PAGES[role])


@role_required(Role.FRONT_DESK)
def desk_home(request):
    return render(request, "clinic/desk_home.html")


@role_required(Role.PRACTITIONER)
def practitioner_home(request):
    return render(request, "clinic/practitioner_home.html")


@role_required(Role.MANAGER)
def manager_home(request):
    return render(request, "clinic/manager_home.html")


@role_required(Role.PATIENT)
def portal_home(request):
    return render(request, "clinic/portal_home.html")
