WHO = "layer one"  # layer two's greet.py replaces this file
