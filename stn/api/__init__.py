"""Generated gRPC modules of the STN API (`stn.proto`); regenerate with scripts/gen_protos.py."""
