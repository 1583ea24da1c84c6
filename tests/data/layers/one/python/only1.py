X = "only in layer one"
