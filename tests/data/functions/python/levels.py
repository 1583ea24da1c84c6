"""logging with AWS_LAMBDA_LOG_LEVEL set: the root logger takes its level."""
import logging


def handler(event, context):
    logging.debug("a debug line")
    logging.info("an info line")
    logging.warning("a warning line")
    return logging.getLogger().level
