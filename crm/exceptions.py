class ApplicationError(Exception):
    """A business rule refused an operation; ``message`` is written for the person who asked.

    ``field`` names the input the message is about, when there is one, so that forms and the
    API can attach it to that field.
    """

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}

    def __str__(self) -> str:
        return str(self.message)
