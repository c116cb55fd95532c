from django import forms


class AdjustmentForm(forms.Form):
    points = forms.IntegerField(help_text="Positive to add, negative to take away.")
    reason = forms.CharField(max_length=255, help_text="Shown in the ledger; required.")

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError("Move at least one point.")
        return points
