WHO = "layer two"
