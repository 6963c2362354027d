"""The files of a deleted product or category image go once the deletion has committed.

Oscar's own receiver (OSCAR_DELETE_IMAGE_FILES, turned off in config/settings.py) deletes
them at once, inside the transaction: when that transaction rolled back, the image row came
back pointing at a file that was gone (a broken picture in the shop)."""

from functools import partial

from django.db import models, router, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from oscar.core.loading import get_model
from oscar.core.thumbnails import get_thumbnailer

ProductImage = get_model("catalogue", "ProductImage")
Category = get_model("catalogue", "Category")


def _delete_files(field_file) -> None:
    """The stored file and its thumbnails (sorl deletes both)."""
    get_thumbnailer().delete_thumbnails(field_file)


@receiver(post_delete, sender=ProductImage)
@receiver(post_delete, sender=Category)
def delete_image_files_on_commit(sender, instance, **kwargs):
    for field in instance._meta.fields:
        if isinstance(field, models.ImageField):
            field_file = getattr(instance, field.name)
            if field_file.name:
                transaction.on_commit(
                    partial(_delete_files, field_file), using=router.db_for_write(sender)
                )
