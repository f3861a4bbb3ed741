"""The one exception type for bad input. Its message is one line that names the problem and the fix;
the CLI prints it and exits with status 2."""


class UserError(ValueError):
    pass
