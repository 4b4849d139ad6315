"""The SOL005 northbound REST API with SOL013 conventions."""
