class ReadOnlyAdminMixin:
    """For records that are written only by services (history, the outbox): the back office
    may look, never add, edit or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
