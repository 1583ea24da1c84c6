import notinstalled  # noqa: F401  (a dependency the package lacks)


def handler(event, context):
    return None
