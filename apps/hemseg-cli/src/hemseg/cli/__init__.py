"""The ``hemseg`` command line. Heavy libraries (torch, MONAI) are imported inside the commands."""
