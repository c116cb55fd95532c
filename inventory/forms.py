"""Staff forms of the inventory admin: product pictures and the cycle-count CSV upload."""

from django import forms

from inventory import images
from inventory.models import Location, ProductImage


class ProductImageField(forms.FileField):
    """An upload refused with a clear message unless it is a JPEG, PNG or WebP within limits."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})
        )
        super().__init__(**kwargs)

    def to_python(self, data):
        upload = super().to_python(data)
        if upload is not None:
            images.name_for_storage(upload, images.check_product_image(upload))
        return upload


class ProductImageForm(forms.ModelForm):
    """A product picture; its thumbnail is made while the form is cleaned, so a picture Pillow
    cannot decode is refused before anything is written, and saved with the row."""

    class Meta:
        model = ProductImage
        fields = ["image", "alt_text", "position"]
        field_classes = {"image": ProductImageField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._thumbnail = None

    def clean_image(self):
        upload = self.cleaned_data["image"]
        if upload and "image" in self.changed_data:
            self._thumbnail = images.make_thumbnail(upload)
        return upload

    def save(self, commit=True):
        product_image = super().save(commit=False)
        if self._thumbnail is not None:
            product_image.thumbnail = self._thumbnail
        if commit:
            images.save_product_image(product_image)
            self.save_m2m()  # set by save(commit=False) above
        return product_image


class CycleCountUploadForm(forms.Form):
    location = forms.ModelChoiceField(
        queryset=Location.objects.filter(is_active=True),
        help_text="Where the shelves were counted.",
    )
    file = forms.FileField(
        label="CSV file",
        help_text="A header row “sku,counted”, then one row per SKU counted.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    note = forms.CharField(max_length=255, required=False)
