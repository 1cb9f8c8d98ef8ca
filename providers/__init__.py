"""Provider adapters: each turns one provider's wire format into wagate.v1 and back."""
