"""A handler in a nested package: Handler pkg/sub/mod.handler or pkg.sub.mod.handler."""


def handler(event, context):
    return {"module": __name__}
