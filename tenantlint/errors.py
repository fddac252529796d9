"""Errors a user can cause. The CLI turns each into one line on stderr and exit code 2."""


class UserError(Exception):
    """Base: bad usage, configuration, paths, plugins or databases."""


class ConfigError(UserError):
    pass


class PathError(UserError):
    pass


class PluginError(UserError):
    pass


class DatabaseError(UserError):
    pass
