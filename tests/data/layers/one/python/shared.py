ORIGIN = "layer one python/"
