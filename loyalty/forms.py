from django import forms


class AdjustmentForm(forms.Form):
    points = forms.IntegerField(help_text="Positive to add, negative to take away.")
    reason = forms.CharField(max_length=255, help_text="Shown in the ledger; required.")

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError("Move at least one point.")
        return points


class StoredValueAdjustmentForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, help_text="Positive to add, negative to take away."
    )
    reason = forms.CharField(max_length=255, help_text="Shown in the ledger; required.")


class StoredValueBlockForm(forms.Form):
    ACTIONS = [
        ("block", "Block the card (its money stays on it)"),
        ("replace", "Replace a lost card: a new number, the balance moved to it"),
    ]
    action = forms.ChoiceField(choices=ACTIONS, widget=forms.RadioSelect, initial="replace")
    reason = forms.CharField(max_length=255, help_text="e.g. reported lost by phone; required.")
