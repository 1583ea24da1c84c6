CONFIG = {}
REGION = CONFIG["missing"]  # fails at import: KeyError


def handler(event, context):
    return None
