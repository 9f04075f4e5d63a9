from django.urls import path

from treatments import views

app_name = "treatments"

urlpatterns = [
    path("catalog/", views.catalog, name="catalog"),
    path("stock/", views.stock, name="stock"),
    path("stock/receive/", views.lot_receive, name="lot_receive"),
]
