"""Member registry (under /can-bo/): staff pages, the farmer's own pages, activation."""

from django.urls import path

from . import member_views as views

urlpatterns = [
    path("hoi-vien/", views.member_list, name="members"),
    path("hoi-vien/them/", views.member_create, name="member-create"),
    path("hoi-vien/<int:pk>/", views.member_detail, name="member-detail"),
    path("hoi-vien/<int:pk>/sua/", views.member_edit, name="member-edit"),
    path("hoi-vien/<int:pk>/cccd/", views.member_cccd, name="member-cccd"),
    path("hoi-vien/<int:pk>/giay-to/", views.member_document_upload, name="member-upload"),
    path(
        "hoi-vien/<int:pk>/giay-to/<int:document_pk>/",
        views.member_document,
        name="member-document",
    ),
    path(
        "hoi-vien/<int:pk>/giay-to/<int:document_pk>/anh-nho/",
        views.member_document_thumbnail,
        name="member-thumbnail",
    ),
    path("hoi-vien/<int:pk>/trang-thai/", views.member_transition, name="member-transition"),
    path("hoi-vien/<int:pk>/moi/", views.member_invite, name="member-invite"),
    path("hoi-vien/<int:pk>/dong-y/", views.member_consent, name="member-consent"),
    path("hoi-vien/<int:pk>/lich-su/", views.member_history, name="member-history"),
    path("hoi-vien/<int:pk>/nhat-ky/", views.member_access_log, name="member-access-log"),
    path("toi/", views.my_record, name="my-record"),
    path("toi/giay-to/", views.my_document_upload, name="my-upload"),
    path("toi/giay-to/<int:document_pk>/", views.my_document, name="my-document"),
    path(
        "toi/giay-to/<int:document_pk>/anh-nho/",
        views.my_document_thumbnail,
        name="my-thumbnail",
    ),
    path("kich-hoat/", views.activate, name="activate"),
    path("dang-nhap/", views.farmer_login, name="farmer-login"),
]
